-- cleanup: across every queue, deletes expired messages and moves over-delivered ones whose lease
-- ended to their dead queue; returns how many of each.
begin;
select plan(7);

do $$
begin
    perform fastqueue.create_queue('dead-a', null, 30, 600);
    perform fastqueue.create_queue('dead-b', null, 30, 900, delivery_delay_seconds => 30);
    perform fastqueue.create_queue('work-a', null, 30, 600, null, 'dead-a', 3);
    perform fastqueue.create_queue('work-b', null, 30, 600, null, 'dead-b', 1);
    perform fastqueue.create_queue('plain', null, 30, 600);
end $$;

select results_eq(
    $$ select expired_messages, dead_lettered_messages from fastqueue.cleanup() $$,
    $$ values (0::bigint, 0::bigint) $$,
    'cleanup with nothing to do returns zeros.'
);

-- Every state, written directly (time cannot pass inside the transaction): "ended" leases have
-- scheduled_at in the past, expired messages have expired_at in the past.
insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at)
values ('work-a', '{"case": "a-over-ended"}', 3, now() + interval '1 minute', now() - interval '1 second'),
       ('work-a', '{"case": "a-beyond-ended"}', 7, now() + interval '1 minute', now()),
       ('work-a', '{"case": "a-over-leased"}', 3, now() + interval '1 minute', now() + interval '1 second'),
       ('work-a', '{"case": "a-below"}', 2, now() + interval '1 minute', now() - interval '1 second'),
       ('work-a', '{"case": "a-over-expired"}', 3, now() - interval '1 second', now() - interval '1 second'),
       ('work-b', '{"case": "b-over-ended"}', 1, now() + interval '1 minute', now() - interval '1 second'),
       ('work-b', '{"case": "b-new"}', 0, now() + interval '1 minute', now()),
       ('plain', '{"case": "plain-many"}', 50, now() + interval '1 minute', now() - interval '1 second'),
       ('plain', '{"case": "plain-expired"}', 0, now(), now()),
       ('dead-a', '{"case": "dead-expired"}', 0, now() - interval '1 hour', now());

select results_eq(
    $$ select expired_messages, dead_lettered_messages from fastqueue.cleanup() $$,
    $$ values (3::bigint, 3::bigint) $$,
    'cleanup returns how many messages it deleted as expired and moved to a dead queue, across all queues.'
);
select is_empty(
    $$ select * from fastqueue.messages where data ->> 'case' like '%expired' $$,
    'cleanup deleted every expired message, over-delivered or not, in every queue (expired_at at or before now).'
);
select set_eq(
    $$ select queue_id, data ->> 'case', delivery_attempts from fastqueue.messages $$,
    $$ values ('dead-a'::text, 'a-over-ended', 0), ('dead-a', 'a-beyond-ended', 0), ('work-a', 'a-over-leased', 3),
              ('work-a', 'a-below', 2), ('dead-b', 'b-over-ended', 0), ('work-b', 'b-new', 0),
              ('plain', 'plain-many', 50) $$,
    'cleanup moved each over-delivered message whose lease ended to its own queue''s dead queue, with attempts reset.'
);
select results_eq(
    $$ select expired_at, scheduled_at from fastqueue.messages where data ->> 'case' = 'b-over-ended' $$,
    $$ values (now() + interval '900 seconds', now() + interval '30 seconds') $$,
    'A dead-lettered message takes its dead queue''s retention and delivery delay.'
);
select results_eq(
    $$ select expired_messages, dead_lettered_messages from fastqueue.cleanup() $$,
    $$ values (0::bigint, 0::bigint) $$,
    'A second cleanup finds nothing more to do: moved messages are not moved again.'
);

-- The leased one's lease ends.
update fastqueue.messages set scheduled_at = now() - interval '1 second' where data ->> 'case' = 'a-over-leased';
select is((select dead_lettered_messages from fastqueue.cleanup()), 1::bigint,
    'cleanup moves the last over-delivered message once its lease has ended.');

select * from finish();
rollback;

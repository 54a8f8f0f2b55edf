-- delete_queue: the queue goes with its messages; queues that used it as their dead queue are
-- detached (dead_queue_id and message_max_deliveries cleared).
begin;
select plan(10);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work-a', 'events', 30, 600, null, 'dead', 3);
    perform fastqueue.create_queue('work-b', 'events', 30, 600, null, 'dead', 5);
    perform fastqueue.create_queue('other-dead', null, 30, 600);
    perform fastqueue.create_queue('work-c', 'events', 30, 600, null, 'other-dead', 2);
    perform fastqueue_tests.publish_numbered('events', 2);
end $$;
-- A message for the dead queue itself, as cleanup would have put there.
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)
values ('dead', '{"n": 0}', now() + interval '600 seconds', now());
-- Backdated so the test can see the detached queues' updated_at move to now().
update fastqueue.queues set updated_at = now() - interval '1 hour';

select results_eq(
    $$ select id, message_max_deliveries from fastqueue.delete_queue('work-a') $$,
    $$ values ('work-a'::text, 3) $$,
    'delete_queue returns the deleted queue.'
);
select is_empty(
    $$ select * from fastqueue.messages where queue_id = 'work-a' $$,
    'delete_queue deletes the queue''s messages.'
);
select results_eq(
    $$ select queue_id, count(*)::integer from fastqueue.messages group by queue_id order by queue_id $$,
    $$ values ('dead'::text, 1), ('work-b', 2), ('work-c', 2) $$,
    'delete_queue leaves other queues'' messages alone.'
);

select results_eq(
    $$ select id from fastqueue.delete_queue('dead') $$,
    array['dead'],
    'delete_queue deletes a queue that other queues use as their dead queue.'
);
select is_empty(
    $$ select * from fastqueue.messages where queue_id = 'dead' $$,
    'The deleted dead queue''s messages are gone.'
);
select results_eq(
    $$ select id, dead_queue_id, message_max_deliveries, updated_at from fastqueue.queues order by id $$,
    $$ values ('other-dead'::text, null::text, null::integer, now() - interval '1 hour'),
              ('work-b', null, null, now()),
              ('work-c', 'other-dead', 2, now() - interval '1 hour') $$,
    'Queues that used it as dead queue lose dead_queue_id and message_max_deliveries (updated now); others are untouched.'
);
select is(
    (select count(*)::integer from fastqueue.messages where queue_id = 'work-b'),
    2,
    'A detached queue keeps its messages.'
);

select throws_ok(
    $$ select * from fastqueue.delete_queue('dead') $$,
    'P0002', 'Queue not found',
    'delete_queue of an unknown id raises P0002 "Queue not found".'
);
select throws_ok(
    $$ select * from fastqueue.get_queue('work-a') $$,
    'P0002', 'Queue not found',
    'A deleted queue cannot be found.'
);
select is(
    (select array_agg(queue_id order by queue_id) from fastqueue.publish('events', '{"n": 3}')),
    array['work-b', 'work-c'],
    'Publishing no longer reaches a deleted queue.'
);

select * from finish();
rollback;

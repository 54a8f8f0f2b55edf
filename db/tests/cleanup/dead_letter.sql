-- Dead-lettering: on a queue with a dead queue, consume never delivers a message more than
-- message_max_deliveries times; cleanup moves it to the dead queue once its last lease has ended,
-- with delivery_attempts reset to 0 and the dead queue's retention and delivery delay.
begin;
select plan(17);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 7200, delivery_delay_seconds => 10);
    perform fastqueue.create_queue('work', 'events', 30, 600, null, 'dead', 2);
    perform fastqueue.publish('events', '{"n": 1}', '{"k": "v"}');
end $$;
-- Published an hour ago, so moving it can be seen to keep created_at.
update fastqueue.messages set created_at = now() - interval '1 hour';
create temp table published on commit drop as select * from fastqueue.messages;

select is((select delivery_attempts from fastqueue.consume('work')), 1, 'The first delivery is attempt 1.');
-- Each "lease ended" below moves scheduled_at into the past: time cannot pass inside the transaction.
select fastqueue_tests.make_due();
select is((select delivery_attempts from fastqueue.consume('work')), 2, 'After the lease ends, the second delivery is attempt 2.');

-- Still leased after its last allowed delivery: cleanup must wait, the consumer may still ack it.
select results_eq(
    $$ select expired_messages, dead_lettered_messages from fastqueue.cleanup() $$,
    $$ values (0::bigint, 0::bigint) $$,
    'cleanup does not move a message whose last lease has not ended.'
);
select is((select queue_id from fastqueue.messages), 'work', 'The leased message stays in its queue.');

select fastqueue_tests.make_due();
select is_empty($$ select * from fastqueue.consume('work') $$,
    'consume never delivers a message beyond message_max_deliveries on a queue with a dead queue.');
select is((select num_undelivered_messages from fastqueue.queue_stats('work')), 0::bigint,
    'queue_stats does not count a message that reached message_max_deliveries.');
select is((select delivery_attempts from fastqueue.messages), 2, 'A refused delivery does not count as an attempt.');

-- A second message below the limit, lease ended: it must stay.
insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at)
values ('work', '{"n": 2}', 1, now() + interval '600 seconds', now() - interval '1 second');

select results_eq(
    $$ select expired_messages, dead_lettered_messages from fastqueue.cleanup() $$,
    $$ values (0::bigint, 1::bigint) $$,
    'Once the last lease has ended, cleanup moves the message and counts it.'
);
select results_eq(
    $$ select queue_id, data, attributes, delivery_attempts, expired_at, scheduled_at, created_at, updated_at
         from fastqueue.messages where data ->> 'n' = '1' $$,
    $$ select 'dead'::text, data, attributes, 0, now() + interval '7200 seconds', now() + interval '10 seconds',
              now() - interval '1 hour', now()
         from published $$,
    'The moved message is in the dead queue with 0 attempts, the dead queue''s retention and delay, and its created_at.'
);
select ok((select id from fastqueue.messages where data ->> 'n' = '1') not in (select id from published),
    'It has a new id, as if newly published there (the fence across the move: db/tests/settle/fencing_across_moves.sql).');
select results_eq(
    $$ select queue_id, delivery_attempts from fastqueue.messages where data ->> 'n' = '2' $$,
    $$ values ('work'::text, 1) $$,
    'cleanup leaves a message below the delivery limit in its queue.'
);
select is_empty($$ select * from fastqueue.consume('dead') $$,
    'In the dead queue the message waits for the dead queue''s delivery delay.');

-- The dead queue's delay has passed.
select fastqueue_tests.make_due('dead');
select is((select delivery_attempts from fastqueue.consume('dead')), 1,
    'The dead queue delivers the message afresh, as attempt 1.');

-- message_max_deliveries 1: one delivery only.
do $$ begin perform fastqueue.update_queue('work', 'events', 30, 600, null, 'dead', 1); end $$;
delete from fastqueue.messages;
do $$ begin perform fastqueue.publish('events', '{"n": 3}'); perform fastqueue.consume('work'); end $$;
select fastqueue_tests.make_due();
select is_empty($$ select * from fastqueue.consume('work') $$,
    'With message_max_deliveries 1 a message is delivered once.');

-- Raising the limit makes the message deliverable again, before cleanup moved it.
do $$ begin perform fastqueue.update_queue('work', 'events', 30, 600, null, 'dead', 3); end $$;
select is((select delivery_attempts from fastqueue.consume('work')), 2,
    'Raising message_max_deliveries allows the further delivery.');

-- Detaching the dead queue removes the limit altogether.
update fastqueue.messages set delivery_attempts = 3, scheduled_at = now() - interval '1 second';
do $$ begin perform fastqueue.update_queue('work', 'events', 30, 600); end $$;
select is((select delivery_attempts from fastqueue.consume('work')), 4,
    'A queue without a dead queue has no delivery limit.');
select is((select dead_lettered_messages from fastqueue.cleanup()), 0::bigint,
    'cleanup moves nothing from a queue without a dead queue.');

select * from finish();
rollback;

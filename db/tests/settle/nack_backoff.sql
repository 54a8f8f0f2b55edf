-- nack: an explicit delay_seconds, the queue's retry backoff when none is given, and fencing.
begin;
select plan(16);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'plain');
    perform fastqueue.create_queue('backoff', 'events', 30, 600,
                                   retry_min_backoff_seconds => 10, retry_max_backoff_seconds => 60);
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

-- The formula, min(max, min * 2^(delivery_attempts - 1)), for attempts 1, 2, 3, ... and capped.
select results_eq(
    $$ select a, fastqueue._retry_backoff(q, a) from fastqueue.queues q, generate_series(1, 6) a
        where q.id = 'backoff' order by a $$,
    $$ values (1, 10), (2, 20), (3, 40), (4, 60), (5, 60), (6, 60) $$,
    'Backoff is 10, 20, 40 seconds for attempts 1 to 3, then capped at 60.'
);
select is((select fastqueue._retry_backoff(q, 1000) from fastqueue.queues q where q.id = 'backoff'), 60,
    'Backoff stays capped (no overflow) at attempt 1000.');
select is((select fastqueue._retry_backoff(q, 3) from fastqueue.queues q where q.id = 'plain'), 0,
    'A queue without retry backoff waits 0 seconds.');

-- nack without a delay on the backoff queue.
create temp table leased on commit drop as select * from fastqueue.consume('backoff');
select is(fastqueue.nack((select id from leased)), true, 'nack on a queue with backoff returns true.');
select is((select scheduled_at from fastqueue.messages where queue_id = 'backoff'), now() + interval '10 seconds',
    'After delivery 1 the message waits retry_min_backoff_seconds.');
update fastqueue.messages set delivery_attempts = 3 where queue_id = 'backoff';
select fastqueue.nack((select id from leased));
select is((select scheduled_at from fastqueue.messages where queue_id = 'backoff'), now() + interval '40 seconds',
    'After delivery 3 it waits 4 times the minimum.');
update fastqueue.messages set delivery_attempts = 9 where queue_id = 'backoff';
select fastqueue.nack((select id from leased));
select is((select scheduled_at from fastqueue.messages where queue_id = 'backoff'), now() + interval '60 seconds',
    'After delivery 9 it waits retry_max_backoff_seconds.');
select is((select num_undelivered_messages from fastqueue.queue_stats('backoff')), 0::bigint,
    'A message waiting out its backoff is not available.');

-- An explicit delay wins over the backoff, 0 included.
select is(fastqueue.nack((select id from leased), delay_seconds => 0), true, 'nack with delay_seconds 0 returns true.');
select is((select scheduled_at from fastqueue.messages where queue_id = 'backoff'), now(),
    'delay_seconds 0 makes the message available at once, backoff or not.');
select fastqueue.nack((select id from fastqueue.messages where queue_id = 'plain'), delay_seconds => 900);
select is((select scheduled_at from fastqueue.messages where queue_id = 'plain'), now() + interval '900 seconds',
    'delay_seconds 900 makes it available 900 seconds from now.');
select throws_ok($$ select fastqueue.nack(gen_random_uuid(), delay_seconds => 901) $$,
    '22023', 'delay_seconds must be between 0 and 900', 'delay_seconds above 900 raises 22023.');
select throws_ok($$ select fastqueue.nack(gen_random_uuid(), delay_seconds => -1) $$,
    '22023', 'delay_seconds must be between 0 and 900', 'A negative delay_seconds raises 22023.');

-- Fencing: a stale nack changes nothing.
update fastqueue.messages set delivery_attempts = 2, scheduled_at = now() + interval '30 seconds'
 where queue_id = 'backoff';
select throws_ok(
    format($$ select fastqueue.nack(%L, delivery_attempt => 1) $$, (select id from leased)),
    'FQ409', 'Stale delivery: the message is now on delivery attempt 2, not 1',
    'A nack naming an earlier delivery raises FQ409 naming the current attempt.'
);
select is((select scheduled_at from fastqueue.messages where queue_id = 'backoff'), now() + interval '30 seconds',
    'The stale nack leaves the current lease in place.');
select is(fastqueue.nack((select id from leased), delivery_attempt => 2, delay_seconds => 0), true,
    'A nack naming the latest delivery succeeds.');

select * from finish();
rollback;

-- Delivery delay: a new message on a queue with delivery_delay_seconds is invisible to consume and
-- queue_stats until the delay has passed.
begin;
select plan(7);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('delayed', 'events', 30, 600, delivery_delay_seconds => 60);
    perform fastqueue.create_queue('immediate', 'events', 30, 600);
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

select is(
    (select scheduled_at from fastqueue.messages where queue_id = 'delayed'),
    now() + interval '60 seconds',
    'A message on a delayed queue is scheduled delivery_delay_seconds after it was published.'
);
select is_empty($$ select * from fastqueue.consume('delayed') $$,
    'consume does not deliver a message before its delivery delay has passed.');
select is((select num_undelivered_messages from fastqueue.queue_stats('delayed')), 0::bigint,
    'queue_stats does not count a delayed message.');
select is((select count(*)::integer from fastqueue.consume('immediate')), 1,
    'The same message on a queue without delay is delivered at once.');

-- The delay ends one second from now (time cannot pass inside the transaction; rows are moved).
update fastqueue.messages set scheduled_at = now() + interval '1 second' where queue_id = 'delayed';
select is_empty($$ select * from fastqueue.consume('delayed') $$,
    'A message one second before the end of its delay is still not delivered.');

-- The delay has passed.
select fastqueue_tests.make_due('delayed');
select is((select num_undelivered_messages from fastqueue.queue_stats('delayed')), 1::bigint,
    'queue_stats counts the message once its delay has passed.');
select results_eq(
    $$ select data, delivery_attempts from fastqueue.consume('delayed') $$,
    $$ values ('{"n": 1}'::jsonb, 1) $$,
    'consume delivers the message once its delay has passed.'
);

select * from finish();
rollback;

-- nack_messages: gives a batch of messages back in one call, with a delay or each queue's backoff.
begin;
select plan(8);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'plain');
    perform fastqueue.create_queue('backoff', 'events', 30, 600,
                                   retry_min_backoff_seconds => 5, retry_max_backoff_seconds => 100);
    perform fastqueue_tests.publish_numbered('events', 2);
end $$;

create temp table leased on commit drop as
select * from fastqueue.consume('plain', 10) union all select * from fastqueue.consume('backoff', 10);
-- One message of the backoff queue is on its third delivery.
update fastqueue.messages set delivery_attempts = 3 where queue_id = 'backoff' and data ->> 'n' = '2';

select is(fastqueue.nack_messages(array(select id from leased) || gen_random_uuid()), 4,
    'nack_messages counts the messages it gave back, not an unknown id.');
select results_eq(
    $$ select queue_id, data ->> 'n', scheduled_at - now() from fastqueue.messages order by queue_id, data ->> 'n' $$,
    $$ values ('backoff'::text, '1'::text, interval '5 seconds'), ('backoff', '2', interval '20 seconds'),
              ('plain', '1', interval '0'), ('plain', '2', interval '0') $$,
    'Without a delay each message waits its own queue''s backoff for its own attempt (none on a plain queue).'
);
select is((select num_undelivered_messages from fastqueue.queue_stats('plain')), 2::bigint,
    'The plain queue''s messages are available again at once.');

select is(fastqueue.nack_messages(array(select id from leased), delay_seconds => 300), 4,
    'nack_messages with delay_seconds returns the count.');
select is((select count(*)::integer from fastqueue.messages where scheduled_at = now() + interval '300 seconds'), 4,
    'An explicit delay applies to every message, backoff or not.');

select throws_ok($$ select fastqueue.nack_messages('{}'::uuid[]) $$,
    '22023', 'the number of message_ids must be between 1 and 1000', 'An empty batch raises 22023.');
select throws_ok($$ select fastqueue.nack_messages(array(select gen_random_uuid() from generate_series(1, 1001))) $$,
    '22023', 'the number of message_ids must be between 1 and 1000', 'A batch of 1001 ids raises 22023.');
select throws_ok($$ select fastqueue.nack_messages(array[gen_random_uuid()], delay_seconds => 901) $$,
    '22023', 'delay_seconds must be between 0 and 900', 'delay_seconds above 900 raises 22023.');

select * from finish();
rollback;

-- queue_overview: one row per queue with its settings, and counts that agree with queue_stats().
begin;
select plan(9);

do $$
begin
    perform fastqueue.create_topic('ov-events');
    perform fastqueue.create_queue('ov-dead', null, 30, 600);
    perform fastqueue.create_queue('ov-work', 'ov-events', 30, 600, '{"kind": ["a", "b"]}', 'ov-dead', 3, null,
                                   1, 8, true, 'attributes:kind');
    perform fastqueue.create_queue('ov-delayed', 'ov-events', 45, 1200, delivery_delay_seconds => 60);
    perform fastqueue.create_queue('ov-empty', null, 30, 600);
end $$;

-- A mixed fixture: 'ov-work' holds a message in each state, 'ov-delayed' only delayed ones,
-- 'ov-dead' one available message, 'ov-empty' nothing. Time cannot pass inside the transaction,
-- so states are set on the rows directly.
do $$ begin perform fastqueue.publish('ov-events', format('{"state": "%s"}', s)::jsonb, '{"kind": "a"}')
    from unnest(array['available', 'lease-ended', 'leased', 'delayed', 'expired', 'over-delivered', 'last-lease']) s; end $$;
update fastqueue.messages set created_at = now() - interval '70 seconds'
 where queue_id = 'ov-work' and data ->> 'state' = 'available';
update fastqueue.messages set delivery_attempts = 1, scheduled_at = now() - interval '1 second'
 where queue_id = 'ov-work' and data ->> 'state' = 'lease-ended';
update fastqueue.messages set delivery_attempts = 1, scheduled_at = now() + interval '20 seconds'
 where queue_id = 'ov-work' and data ->> 'state' = 'leased';
update fastqueue.messages set scheduled_at = now() + interval '20 seconds'
 where queue_id = 'ov-work' and data ->> 'state' = 'delayed';
update fastqueue.messages set created_at = now() - interval '900 seconds', expired_at = now() - interval '1 second'
 where queue_id = 'ov-work' and data ->> 'state' = 'expired';
update fastqueue.messages set delivery_attempts = 3, scheduled_at = now() - interval '1 second'
 where queue_id = 'ov-work' and data ->> 'state' = 'over-delivered';
update fastqueue.messages set delivery_attempts = 3, scheduled_at = now() + interval '20 seconds'
 where queue_id = 'ov-work' and data ->> 'state' = 'last-lease';
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)
values ('ov-dead', '{"n": 1}', now() + interval '1 hour', now());

select is(
    (select string_agg(a.attname, ', ' order by a.attnum)
       from pg_catalog.pg_attribute a
      where a.attrelid = 'fastqueue.queue_overview'::regclass and a.attnum > 0 and not a.attisdropped),
    'id, topic_id, dead_queue_id, message_filters, filter, ack_deadline_seconds, message_retention_seconds, '
    'message_max_deliveries, delivery_delay_seconds, enable_message_ordering, retry_min_backoff_seconds, '
    'retry_max_backoff_seconds, available_messages, inflight_messages, delayed_messages, dead_letter_candidates, '
    'total_messages, oldest_message_age_seconds, created_at, updated_at, push_endpoint, push_format, '
    'push_secret_set, push_max_in_flight, push_in_flight, push_window',
    'queue_overview has the settings, the counts and the timestamps, in that order.'
);

select results_eq(
    $$ select id from fastqueue.queue_overview $$,
    $$ select id from fastqueue.queues order by id $$,
    'queue_overview has one row per queue, ordered by id.'
);

select results_eq(
    $$ select o.available_messages, o.inflight_messages, o.delayed_messages, o.dead_letter_candidates,
              o.oldest_message_age_seconds
         from fastqueue.queue_overview o order by o.id $$,
    $$ select s.num_undelivered_messages, s.num_inflight_messages, s.num_delayed_messages,
              s.num_dead_letter_candidates, s.oldest_unacked_message_age_seconds
         from fastqueue.queues q cross join lateral fastqueue.queue_stats(q.id) s order by q.id $$,
    'For every queue, the counts and the oldest age agree with queue_stats().'
);

select results_eq(
    $$ select available_messages, inflight_messages, delayed_messages, dead_letter_candidates,
              total_messages, oldest_message_age_seconds
         from fastqueue.queue_overview where id = 'ov-work' $$,
    $$ values (2::bigint, 2::bigint, 1::bigint, 2::bigint, 7::bigint, 70) $$,
    'A queue with a message in each state: 2 available, 2 in flight, 1 delayed, 2 dead-letter candidates, 7 stored, the oldest available 70 s old.'
);

select results_eq(
    $$ select available_messages, inflight_messages, delayed_messages, dead_letter_candidates, total_messages
         from fastqueue.queue_overview where id in ('ov-delayed', 'ov-dead', 'ov-empty') order by id $$,
    $$ values (1::bigint, 0::bigint, 0::bigint, 0::bigint, 1::bigint),
              (0::bigint, 0::bigint, 7::bigint, 0::bigint, 7::bigint),
              (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint) $$,
    'A dead queue, a queue with a delivery delay and an empty queue have their own counts.'
);

select is(
    (select total_messages from fastqueue.queue_overview where id = 'ov-work'),
    (select count(*) from fastqueue.peek('ov-work', 1000)),
    'total_messages counts every stored message, as peek() shows them.'
);

select results_eq(
    $$ select topic_id, dead_queue_id, message_filters, filter, ack_deadline_seconds, message_retention_seconds,
              message_max_deliveries, delivery_delay_seconds, enable_message_ordering,
              retry_min_backoff_seconds, retry_max_backoff_seconds
         from fastqueue.queue_overview where id = 'ov-work' $$,
    $$ select topic_id, dead_queue_id, message_filters, filter, ack_deadline_seconds, message_retention_seconds,
              message_max_deliveries, delivery_delay_seconds, enable_message_ordering,
              retry_min_backoff_seconds, retry_max_backoff_seconds
         from fastqueue.get_queue('ov-work') $$,
    'queue_overview shows the settings get_queue() returns.'
);

select results_eq(
    $$ select created_at, updated_at from fastqueue.queue_overview where id = 'ov-delayed' $$,
    $$ select created_at, updated_at from fastqueue.get_queue('ov-delayed') $$,
    'queue_overview shows when the queue was created and last updated.'
);

select is(
    (select count(*) from fastqueue.consume('ov-work', 1000)),
    2::bigint,
    'consume leases exactly the available_messages the overview showed.'
);

select * from finish();
rollback;

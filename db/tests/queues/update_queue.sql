-- update_queue: replaces every setting, keeps created_at, sets updated_at; same rules and errors as
-- create_queue.
begin;
select plan(27);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_topic('orders');
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work', 'events', 30, 600, '{"a": ["b"]}', 'dead', 3, 10);
    perform fastqueue.publish('events', '{"n": 1}', '{"a": "b"}');
end $$;
-- Time cannot pass inside the transaction (now() is constant), so the queue is backdated an hour
-- as if it had been created earlier.
update fastqueue.queues set created_at = now() - interval '1 hour', updated_at = now() - interval '1 hour'
 where id = 'work';

select results_eq(
    $$ select id, topic_id, ack_deadline_seconds, message_retention_seconds, message_filters,
              dead_queue_id, message_max_deliveries, delivery_delay_seconds, created_at, updated_at
         from fastqueue.update_queue('work', 'orders', 60, 7200, '{"kind": ["x", "y"]}', 'dead', 5, 20) $$,
    $$ values ('work'::text, 'orders'::text, 60, 7200, '{"kind": ["x", "y"]}'::jsonb, 'dead'::text, 5, 20,
               now() - interval '1 hour', now()) $$,
    'update_queue replaces the settings, keeps created_at and sets updated_at to now.'
);
select results_eq(
    $$ select * from fastqueue.queue_settings where id = 'work' $$,
    $$ select * from fastqueue.get_queue('work') $$,
    'update_queue stores the queue it returns.'
);
select results_eq(
    $$ select topic_id, message_filters, dead_queue_id, message_max_deliveries, delivery_delay_seconds
         from fastqueue.update_queue('work', 'events', 30, 600) $$,
    $$ values ('events'::text, null::jsonb, null::text, null::integer, null::integer) $$,
    'update_queue replaces every setting: omitted optional ones become null.'
);
select results_eq(
    $$ select ack_deadline_seconds, message_retention_seconds, message_filters, dead_queue_id,
              message_max_deliveries, delivery_delay_seconds
         from fastqueue.update_queue(id => 'work', topic_id => 'events', ack_deadline_seconds => 45,
                                     message_retention_seconds => 900, message_filters => '{"a": ["b"]}',
                                     dead_queue_id => 'dead', message_max_deliveries => 2,
                                     delivery_delay_seconds => 5) $$,
    $$ values (45, 900, '{"a": ["b"]}'::jsonb, 'dead'::text, 2, 5) $$,
    'update_queue takes every setting by its HTTP field name.'
);
select is(
    (select message_filters from fastqueue.update_queue('work', 'events', 30, 600, 'null'::jsonb)),
    null,
    'update_queue stores a JSON null filter as no filter (SQL null).'
);
select is(
    (select topic_id from fastqueue.update_queue('work', null, 30, 600)),
    null,
    'update_queue accepts a null topic_id: the queue unsubscribes.'
);
select is(
    (select count(*)::integer from fastqueue.publish('events', '{"n": 2}')),
    0,
    'An unsubscribed queue no longer receives the topic''s messages.'
);
select results_eq(
    $$ select expired_at, scheduled_at from fastqueue.messages where queue_id = 'work' $$,
    $$ values (now() + interval '600 seconds', now() + interval '10 seconds') $$,
    'Messages already queued keep their expiry and schedule after an update.'
);
select is(
    (select created_at from fastqueue.queues where id = 'work'),
    now() - interval '1 hour',
    'created_at survives every update.'
);

-- Errors: unknown queue, topic or dead queue.
select throws_ok($$ select fastqueue.update_queue('missing', null, 30, 600) $$,
    'P0002', 'Queue not found', 'update_queue of an unknown queue raises P0002 "Queue not found".');
select throws_ok($$ select fastqueue.update_queue('work', 'missing', 30, 600) $$,
    'P0002', 'Topic not found', 'update_queue with an unknown topic raises P0002 "Topic not found".');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, 'missing', 3) $$,
    'P0002', 'Queue not found', 'update_queue with an unknown dead queue raises P0002 "Queue not found".');

-- Errors: every rule, 22023.
select throws_ok($$ select fastqueue.update_queue('work', null, 0, 600) $$,
    '22023', 'ack_deadline_seconds must be between 1 and 600', 'update_queue refuses ack_deadline_seconds 0.');
select throws_ok($$ select fastqueue.update_queue('work', null, 601, 600) $$,
    '22023', null, 'update_queue refuses ack_deadline_seconds 601.');
select throws_ok($$ select fastqueue.update_queue('work', null, null, 600) $$,
    '22023', 'ack_deadline_seconds is required', 'update_queue refuses a null ack_deadline_seconds.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 599) $$,
    '22023', null, 'update_queue refuses message_retention_seconds 599.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 1209601) $$,
    '22023', null, 'update_queue refuses message_retention_seconds 1209601.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, 'dead', 0) $$,
    '22023', null, 'update_queue refuses message_max_deliveries 0.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, 'dead', 1001) $$,
    '22023', null, 'update_queue refuses message_max_deliveries 1001.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, delivery_delay_seconds => 0) $$,
    '22023', null, 'update_queue refuses delivery_delay_seconds 0.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, delivery_delay_seconds => 901) $$,
    '22023', null, 'update_queue refuses delivery_delay_seconds 901.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, 'dead', null) $$,
    '22023', 'dead_queue_id and message_max_deliveries must be given together or not at all',
    'update_queue refuses dead_queue_id without message_max_deliveries.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, null, 3) $$,
    '22023', 'dead_queue_id and message_max_deliveries must be given together or not at all',
    'update_queue refuses message_max_deliveries without dead_queue_id.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, null, 'work', 3) $$,
    '22023', 'dead_queue_id must name another queue, not the queue itself',
    'update_queue refuses making a queue its own dead queue.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, '{"a": "b"}') $$,
    '22023', null, 'update_queue refuses a filter value that is not a list.');
select throws_ok($$ select fastqueue.update_queue('work', null, 30, 600, '[1]') $$,
    '22023', null, 'update_queue refuses filters that are not an object.');

select results_eq(
    $$ select topic_id, ack_deadline_seconds, message_retention_seconds, message_filters, dead_queue_id,
              message_max_deliveries, delivery_delay_seconds
         from fastqueue.queues where id = 'work' $$,
    $$ values (null::text, 30, 600, null::jsonb, null::text, null::integer, null::integer) $$,
    'A refused update leaves the queue as it was.'
);

select * from finish();
rollback;

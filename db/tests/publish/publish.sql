-- publish: fan-out to every subscribed queue, the new message's fields, and the shape rules for
-- data and attributes (22023).
begin;
select plan(26);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_topic('other');
    perform fastqueue.create_topic('empty');
    perform fastqueue.create_queue('events-a', 'events', 30, 600);
    perform fastqueue.create_queue('events-b', 'events', 60, 7200);
    perform fastqueue.create_queue('events-c', 'events', 30, 86400, delivery_delay_seconds => 15);
    perform fastqueue.create_queue('other-a', 'other', 30, 600);
    perform fastqueue.create_queue('standalone', null, 30, 600);
end $$;

create temp table published on commit drop as
select * from fastqueue.publish('events', '{"event_name": "created", "n": 1}', '{"source": "web"}');

-- Fan-out
select set_eq(
    $$ select queue_id from published $$,
    array['events-a', 'events-b', 'events-c'],
    'publish returns one row per queue subscribed to the topic.'
);
select set_eq(
    $$ select queue_id, id from fastqueue.messages $$,
    $$ select queue_id, id from published $$,
    'publish stores exactly the rows it returns: nothing for other topics'' queues or detached queues.'
);
select is(
    (select count(distinct id)::integer from published),
    3,
    'Each queue gets its own copy, with its own id.'
);
select ok(
    (select bool_and(data = '{"event_name": "created", "n": 1}' and attributes = '{"source": "web"}') from published),
    'Every copy carries the data and attributes as published.'
);

-- The new message
select results_eq(
    $$ select queue_id, delivery_attempts, created_at, updated_at, expired_at, scheduled_at
         from published order by queue_id $$,
    $$ values ('events-a'::text, 0, now(), now(), now() + interval '600 seconds', now()),
              ('events-b', 0, now(), now(), now() + interval '7200 seconds', now()),
              ('events-c', 0, now(), now(), now() + interval '86400 seconds', now() + interval '15 seconds') $$,
    'A new message has no deliveries, expires after its queue''s retention, and is scheduled after its queue''s delivery delay (or now).'
);

-- No queue takes it
select is_empty(
    $$ select * from fastqueue.publish('empty', '{"n": 2}') $$,
    'publish to a topic without queues returns an empty set.'
);
select is(
    (select count(*)::integer from fastqueue.messages),
    3,
    'A message that reaches no queue is not stored.'
);
select is(
    (select count(*)::integer from fastqueue.publish('other', '{"n": 3}')),
    1,
    'publish to another topic reaches only that topic''s queue.'
);

-- attributes default and JSON null
select is(
    (select attributes from fastqueue.publish('other', '{"n": 4}') limit 1),
    null,
    'publish without attributes stores null attributes.'
);
select is(
    (select attributes from fastqueue.publish('other', '{"n": 5}', 'null'::jsonb) limit 1),
    null,
    'publish stores JSON null attributes as SQL null.'
);
select is(
    (select attributes from fastqueue.publish('other', '{"n": 6}', '{}') limit 1),
    '{}'::jsonb,
    'publish accepts empty attributes.'
);
select is(
    (select data from fastqueue.publish('other', '{}') limit 1),
    '{}'::jsonb,
    'publish accepts an empty data object.'
);
select is(
    (select data from fastqueue.publish(topic_id => 'other', data => '{"nested": {"list": [1, 2]}}', attributes => '{"k": "v"}') limit 1),
    '{"nested": {"list": [1, 2]}}'::jsonb,
    'publish takes its arguments by name and accepts nested data.'
);

-- Errors
select throws_ok($$ select * from fastqueue.publish('missing', '{"n": 1}') $$,
    'P0002', 'Topic not found', 'publish to an unknown topic raises P0002 "Topic not found".');
select throws_ok($$ select * from fastqueue.publish('events', '[1, 2]') $$,
    '22023', 'data must be a JSON object', 'publish refuses data that is an array.');
select throws_ok($$ select * from fastqueue.publish('events', '"text"') $$,
    '22023', null, 'publish refuses data that is a string.');
select throws_ok($$ select * from fastqueue.publish('events', '42') $$,
    '22023', null, 'publish refuses data that is a number.');
select throws_ok($$ select * from fastqueue.publish('events', 'null'::jsonb) $$,
    '22023', null, 'publish refuses data that is JSON null.');
select throws_ok($$ select * from fastqueue.publish('events', null) $$,
    '22023', null, 'publish refuses SQL null data.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '["web"]') $$,
    '22023', 'attributes must be null or a JSON object whose values are all strings',
    'publish refuses attributes that are an array.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '"web"') $$,
    '22023', null, 'publish refuses attributes that are a string.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '{"n": 1}') $$,
    '22023', null, 'publish refuses an attribute with a number value.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '{"ok": "yes", "flag": true}') $$,
    '22023', null, 'publish refuses an attribute with a boolean value, even next to string ones.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '{"a": null}') $$,
    '22023', null, 'publish refuses an attribute with a null value.');
select throws_ok($$ select * from fastqueue.publish('events', '{}', '{"a": {"b": "c"}}') $$,
    '22023', null, 'publish refuses an attribute with an object value.');
-- Refused even where no queue would store it (so no table constraint would fire).
select throws_ok($$ select * from fastqueue.publish('empty', '[1]') $$,
    '22023', null, 'publish refuses bad data even when the topic has no queues.');

select * from finish();
rollback;

-- publish_batch: many messages in one call, stored in input order (each message's copies in queue id
-- order), all or nothing, and an error that names the first bad message by its 0-based position.
begin;
select plan(17);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'events-b');
    perform fastqueue.create_topic('empty');
    perform fastqueue.create_queue('events-a', 'events', 30, 600, message_filters => '{"kind": ["a"]}');
end $$;

create temp table published on commit drop as
select row_number() over () as position, p.*
  from fastqueue.publish_batch('events',
        '[{"data": {"n": 1}, "attributes": {"kind": "a"}},
          {"data": {"n": 2}},
          {"data": {"n": 3}, "attributes": {"kind": "a"}, "delay_seconds": 60, "ordering_key": "k"}]') p;

select results_eq(
    $$ select (data ->> 'n')::integer, queue_id from published order by position $$,
    $$ values (1, 'events-a'::text), (1, 'events-b'), (2, 'events-b'), (3, 'events-a'), (3, 'events-b') $$,
    'publish_batch returns every copy, message by message in input order, each message''s copies in queue id order.'
);
select set_eq(
    $$ select id from fastqueue.messages $$,
    $$ select id from published $$,
    'publish_batch stores exactly the copies it returns.'
);
select results_eq(
    $$ select scheduled_at, ordering_key from published where data ->> 'n' = '3' $$,
    $$ values (now() + interval '60 seconds', 'k'::text), (now() + interval '60 seconds', 'k') $$,
    'Each message of a batch keeps its own delay_seconds and ordering_key.'
);
select results_eq(
    $$ select count(*)::integer from fastqueue.publish_batch('events', (select jsonb_agg(jsonb_build_object('data', jsonb_build_object('n', n))) from generate_series(1, 1000) n)) $$,
    array[1000],
    'publish_batch accepts 1000 messages.'
);
select is_empty(
    $$ select * from fastqueue.publish_batch('empty', '[{"data": {}}]') $$,
    'A batch to a topic without queues stores nothing and returns an empty set.'
);
select is(
    (select count(*)::integer from fastqueue.publish_batch('events', '[{"data": {"n": 4}, "attributes": null, "delay_seconds": null, "deduplication_id": null, "ordering_key": null}]')),
    1,
    'Optional fields given as null count as absent.'
);

-- All or nothing, with the index of the first bad message.
create temp table before_errors on commit drop as select count(*) as n from fastqueue.messages;
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {"n": 5}}, {"data": {"n": 6}}, {"data": [1]}]') $$,
    '22023', 'messages[2]: data must be a JSON object',
    'One bad message refuses the batch with 22023, naming its 0-based position.'
);
select is((select count(*) from fastqueue.messages), (select n from before_errors),
    'A refused batch stores none of its messages, not even the good ones before the bad one.');
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {}, "attributes": {"n": 1}}]') $$,
    '22023', 'messages[0]: attributes must be null or a JSON object whose values are all strings',
    'The attributes rule of publish applies to each message of a batch.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {}}, {"data": {}, "delay_seconds": 901}]') $$,
    '22023', 'messages[1]: delay_seconds must be null or between 0 and 900',
    'delay_seconds out of range names the message.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {}, "delay_seconds": 1.5}]') $$,
    '22023', 'messages[0]: delay_seconds must be null or between 0 and 900',
    'delay_seconds must be a whole number.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {}, "ordering_key": 7}]') $$,
    '22023', 'messages[0]: ordering_key must be null or a string of 1 to 128 characters',
    'An ordering_key that is not a string is refused.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {}, "dedup_id": "x"}]') $$,
    '22023', 'messages[0]: unknown field; a message has data, attributes, delay_seconds, deduplication_id and ordering_key',
    'A misspelt field is refused rather than ignored.'
);
set local fastqueue.max_message_bytes = 100;
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', jsonb_build_array('{"data": {}}'::jsonb, jsonb_build_object('data', jsonb_build_object('s', repeat('x', 92))))) $$,
    '54000', 'messages[1]: Message too large: 101 bytes, the limit is 100 bytes',
    'The size limit applies to each message of a batch, with its position.'
);
reset fastqueue.max_message_bytes;
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[]') $$,
    '22023', 'messages must be a JSON array of 1 to 1000 messages',
    'An empty batch is refused.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', (select jsonb_agg('{"data": {}}'::jsonb) from generate_series(1, 1001))) $$,
    '22023', 'messages must be a JSON array of 1 to 1000 messages',
    'A batch of 1001 messages is refused.'
);
select throws_ok(
    $$ select * from fastqueue.publish_batch('missing', '[{"data": {}}]') $$,
    'P0002', 'Topic not found',
    'A batch to an unknown topic raises P0002.'
);

select * from finish();
rollback;

-- publish: the message size limit. data and attributes, as JSON text, may take at most
-- fastqueue.max_message_bytes bytes (1048576 when the setting is unset); a bigger message is refused
-- with 54000 program_limit_exceeded, whether or not any queue would have stored it.
begin;
select plan(17);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'events-a');
    perform fastqueue.create_topic('empty');
end $$;

-- {"s": "<n characters>"} is n + 9 bytes of JSON text; {"k": "v"} is 10.

-- The default: 1 MiB.
select is(
    nullif(current_setting('fastqueue.max_message_bytes', true), ''),
    null,
    'fastqueue.max_message_bytes is unset in this database.'
);
select lives_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 1048576 - 9))) $$,
    'Unset, the limit is 1048576 bytes: a message of exactly that size is published.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 1048576 - 8))) $$,
    '54000', 'Message too large: 1048577 bytes, the limit is 1048576 bytes',
    'Unset, one byte more is refused with 54000, naming the size and the limit.'
);

-- A limit set in the session (as the gateway does on its connections, or alter database ... set).
set local fastqueue.max_message_bytes = 100;
select lives_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 81)), '{"k": "v"}') $$,
    'data and attributes of exactly fastqueue.max_message_bytes together are published.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 82)), '{"k": "v"}') $$,
    '54000', 'Message too large: 101 bytes, the limit is 100 bytes',
    'attributes count towards the limit.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 92))) $$,
    '54000', 'Message too large: 101 bytes, the limit is 100 bytes',
    'data alone over the limit is refused.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('é', 46))) $$,
    '54000', 'Message too large: 101 bytes, the limit is 100 bytes',
    'The size is in bytes, not characters: é counts two.'
);
select lives_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 91)), 'null') $$,
    'JSON null attributes count as none.'
);
select throws_ok(
    $$ select * from fastqueue.publish('empty', jsonb_build_object('s', repeat('x', 92))) $$,
    '54000', null,
    'A message too large is refused even when the topic has no queues.'
);
select is(
    (select count(*)::integer from fastqueue.messages),
    3,
    'Only the three accepted messages were stored.'
);

-- Shape errors come first; a bad setting is an error that says so.
select throws_ok(
    $$ select * from fastqueue.publish('events', to_jsonb(repeat('x', 200))) $$,
    '22023', 'data must be a JSON object',
    'data of the wrong shape is 22023 even when it is also too large.'
);
set local fastqueue.max_message_bytes = 'lots';
select throws_ok(
    $$ select * from fastqueue.publish('events', '{}') $$,
    '22023', 'fastqueue.max_message_bytes must be a whole number of bytes, 1 or more',
    'A setting that is not a number is refused with 22023.'
);
set local fastqueue.max_message_bytes = 0;
select throws_ok(
    $$ select * from fastqueue.publish('events', '{}') $$,
    '22023', 'fastqueue.max_message_bytes must be a whole number of bytes, 1 or more',
    'A limit of 0 is refused with 22023.'
);
set local fastqueue.max_message_bytes = '';
select throws_ok(
    $$ select * from fastqueue.publish('events', jsonb_build_object('s', repeat('x', 1048576 - 8))) $$,
    '54000', 'Message too large: 1048577 bytes, the limit is 1048576 bytes',
    'An empty setting (as after a reset) means the default 1 MiB.'
);

reset fastqueue.max_message_bytes;
select lives_ok(
    $$ select * from fastqueue.publish('events', (repeat('{"a": ', 100) || '1' || repeat('}', 100))::jsonb) $$,
    'data whose deepest value is 100 levels down is accepted.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', (repeat('{"a": ', 101) || '1' || repeat('}', 101))::jsonb) $$,
    '22023', 'data must not nest deeper than 100 levels',
    'One level more is refused: parsers and serializers (the gateway''s included) give up on deep documents.'
);

select ok(
    obj_description('fastqueue.publish(text, jsonb, jsonb, integer, text, text)'::regprocedure, 'pg_proc') like '%fastqueue.max_message_bytes%54000%',
    'publish''s comment documents the limit and its error.'
);

select * from finish();
rollback;

-- send: one message straight to one queue (SQS's SendMessage), with publish's rules.
begin;
select plan(17);

do $$
begin
    perform fastqueue.create_topic('send-events');
    perform fastqueue.create_queue('send-filtered', 'send-events', 30, 600, message_filters => '{"kind": ["wanted"]}');
    perform fastqueue.create_queue('send-sibling', 'send-events', 30, 600);
    perform fastqueue.create_queue('send-delayed', null, 45, 7200, delivery_delay_seconds => 60);
end $$;

create temp table sent on commit drop as
select * from fastqueue.send('send-filtered', '{"body": "hello"}', '{"kind": "unwanted"}');

select is((select count(*)::integer from sent), 1, 'send returns the one stored message.');
select set_eq(
    $$ select id, queue_id from fastqueue.messages $$,
    $$ select id, queue_id from sent $$,
    'send stores one copy, in the queue named, and none in the other queues of its topic.'
);
select ok(
    (select data = '{"body": "hello"}' and attributes = '{"kind": "unwanted"}' and delivery_attempts = 0
            and ordering_key is null from sent),
    'The message carries the data and attributes as sent (the queue''s filters do not apply), no delivery yet.'
);
select ok(
    (select expired_at = now() + interval '600 seconds' and scheduled_at = now() from sent),
    'It expires after the queue''s message_retention_seconds and is available at once.'
);
select ok(
    (select scheduled_at = now() + interval '60 seconds' and expired_at = now() + interval '7200 seconds'
       from fastqueue.send('send-delayed', '{"n": 1}')),
    'Without delay_seconds the queue''s delivery_delay_seconds applies.'
);
select ok(
    (select scheduled_at = now() from fastqueue.send('send-delayed', '{"n": 2}', delay_seconds => 0)),
    'delay_seconds 0 overrides the queue''s delivery delay.'
);
select ok(
    (select scheduled_at = now() + interval '900 seconds' from fastqueue.send('send-sibling', '{"n": 3}', null, 900)),
    'delay_seconds 900 is the most.'
);
select is(
    (select attributes from fastqueue.send('send-sibling', '{"n": 4}', 'null'::jsonb)), null,
    'JSON null attributes are stored as SQL null, as publish does.'
);
select is(
    (select id from fastqueue.consume('send-delayed', 10)), (select id from fastqueue.messages where data = '{"n": 2}'),
    'A sent message is consumed like a published one.'
);

-- The rules (the same function as publish checks them).
select throws_ok($$ select fastqueue.send('send-missing', '{}') $$, 'P0002', 'Queue not found',
    'An unknown queue is P0002.');
select throws_ok($$ select fastqueue.send('send-sibling', '[1]') $$, '22023', 'data must be a JSON object',
    'data must be a JSON object.');
select throws_ok($$ select fastqueue.send('send-sibling', null) $$, '22023', 'data must be a JSON object',
    'data is required.');
select throws_ok($$ select fastqueue.send('send-sibling', '{}', '{"n": 1}') $$, '22023',
    'attributes must be null or a JSON object whose values are all strings',
    'attributes must be strings.');
select throws_ok($$ select fastqueue.send('send-sibling', '{}', null, 901) $$, '22023',
    'delay_seconds must be null or between 0 and 900', 'delay_seconds above 900 is refused.');
select throws_ok($$ select fastqueue.send('send-sibling', '{}', null, -1) $$, '22023',
    'delay_seconds must be null or between 0 and 900', 'A negative delay_seconds is refused.');
set local fastqueue.max_message_bytes = 100;
select throws_ok($$ select fastqueue.send('send-sibling', jsonb_build_object('body', repeat('x', 100))) $$, '54000',
    null, 'A message over fastqueue.max_message_bytes is refused (54000).');
reset fastqueue.max_message_bytes;
select is((select count(*)::integer from fastqueue.messages where queue_id = 'send-sibling'), 2,
    'A refused send stores nothing.');

select * from finish();
rollback;

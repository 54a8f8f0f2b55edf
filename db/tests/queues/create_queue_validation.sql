-- create_queue refuses every value that breaks a rule with 22023 and a sentence naming the rule;
-- values on the edge of each range are accepted.
begin;
select plan(44);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 600);
end $$;

-- id
select throws_ok(format('select fastqueue.create_queue(%L, null, 30, 600)', repeat('q', 129)),
    '22023', 'id must be 1 to 128 characters, each a letter, a digit, ".", "_" or "-"',
    'create_queue refuses an id of 129 characters.');
select throws_ok($$ select fastqueue.create_queue('', null, 30, 600) $$, '22023', null,
    'create_queue refuses an empty id.');
select throws_ok($$ select fastqueue.create_queue('two words', null, 30, 600) $$, '22023', null,
    'create_queue refuses an id with a space.');
select throws_ok($$ select fastqueue.create_queue('a/b', null, 30, 600) $$, '22023', null,
    'create_queue refuses an id with a slash.');
select throws_ok($$ select fastqueue.create_queue(null, null, 30, 600) $$, '22023', null,
    'create_queue refuses a null id.');
select lives_ok($$ select fastqueue.create_queue('Az09-._', null, 30, 600) $$,
    'create_queue accepts an id of letters, digits, "-", "." and "_".');

-- ack_deadline_seconds 1..600
select throws_ok($$ select fastqueue.create_queue('q', null, 0, 600) $$,
    '22023', 'ack_deadline_seconds must be between 1 and 600',
    'create_queue refuses ack_deadline_seconds 0 and says the range.');
select throws_ok($$ select fastqueue.create_queue('q', null, 601, 600) $$, '22023', null,
    'create_queue refuses ack_deadline_seconds 601.');
select throws_ok($$ select fastqueue.create_queue('q', null, null, 600) $$, '22023', null,
    'create_queue refuses a null ack_deadline_seconds.');
select lives_ok($$ select fastqueue.create_queue('ack-1', null, 1, 600) $$,
    'create_queue accepts ack_deadline_seconds 1.');
select lives_ok($$ select fastqueue.create_queue('ack-600', null, 600, 600) $$,
    'create_queue accepts ack_deadline_seconds 600.');

-- message_retention_seconds 600..1209600
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 599) $$,
    '22023', 'message_retention_seconds must be between 600 and 1209600 (14 days)',
    'create_queue refuses message_retention_seconds 599 and says the range.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 1209601) $$, '22023', null,
    'create_queue refuses message_retention_seconds 1209601.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, null) $$, '22023', null,
    'create_queue refuses a null message_retention_seconds.');
select lives_ok($$ select fastqueue.create_queue('retention-max', null, 30, 1209600) $$,
    'create_queue accepts message_retention_seconds 1209600.');

-- message_max_deliveries 1..1000 (with a dead queue)
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, null, 'dead', 0) $$,
    '22023', 'message_max_deliveries must be between 1 and 1000',
    'create_queue refuses message_max_deliveries 0 and says the range.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, null, 'dead', 1001) $$, '22023', null,
    'create_queue refuses message_max_deliveries 1001.');
select lives_ok($$ select fastqueue.create_queue('deliveries-1', null, 30, 600, null, 'dead', 1) $$,
    'create_queue accepts message_max_deliveries 1.');
select lives_ok($$ select fastqueue.create_queue('deliveries-1000', null, 30, 600, null, 'dead', 1000) $$,
    'create_queue accepts message_max_deliveries 1000.');

-- delivery_delay_seconds 1..900 or null
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, delivery_delay_seconds => 0) $$,
    '22023', 'delivery_delay_seconds must be null or between 1 and 900',
    'create_queue refuses delivery_delay_seconds 0 and says the range.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, delivery_delay_seconds => 901) $$, '22023', null,
    'create_queue refuses delivery_delay_seconds 901.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, delivery_delay_seconds => -1) $$, '22023', null,
    'create_queue refuses a negative delivery_delay_seconds.');
select lives_ok($$ select fastqueue.create_queue('delay-1', null, 30, 600, delivery_delay_seconds => 1) $$,
    'create_queue accepts delivery_delay_seconds 1.');
select lives_ok($$ select fastqueue.create_queue('delay-900', null, 30, 600, delivery_delay_seconds => 900) $$,
    'create_queue accepts delivery_delay_seconds 900.');

-- dead_queue_id and message_max_deliveries together, and not the queue itself
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, null, 'dead', null) $$,
    '22023', 'dead_queue_id and message_max_deliveries must be given together or not at all',
    'create_queue refuses dead_queue_id without message_max_deliveries.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, null, null, 3) $$,
    '22023', 'dead_queue_id and message_max_deliveries must be given together or not at all',
    'create_queue refuses message_max_deliveries without dead_queue_id.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, null, 'q', 3) $$,
    '22023', 'dead_queue_id must name another queue, not the queue itself',
    'create_queue refuses a queue that is its own dead queue.');

-- message_filters: null or {"key": ["string", ...], ...}
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '["created"]') $$,
    '22023',
    'message_filters must be null or a JSON object mapping each attribute name to a list of allowed string values, e.g. {"event_name": ["created", "updated"]}',
    'create_queue refuses filters that are an array, and shows the expected shape.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '"created"') $$, '22023', null,
    'create_queue refuses filters that are a string.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"event_name": "created"}') $$, '22023', null,
    'create_queue refuses a filter value that is a string, not a list.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"event_name": {"created": true}}') $$, '22023', null,
    'create_queue refuses a filter value that is an object.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"event_name": null}') $$, '22023', null,
    'create_queue refuses a filter value that is null.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"n": [1, 2]}') $$, '22023', null,
    'create_queue refuses a filter list of numbers.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"a": ["x", null]}') $$, '22023', null,
    'create_queue refuses a filter list holding null.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"a": [["x"]]}') $$, '22023', null,
    'create_queue refuses a filter list of lists.');
select throws_ok($$ select fastqueue.create_queue('q', null, 30, 600, '{"a": ["x"], "b": "y"}') $$, '22023', null,
    'create_queue refuses filters where any one key is not a list.');
select lives_ok(
    $$ select fastqueue.create_queue('filters-ok', null, 30, 600, '{"event_name": ["created", "updated"], "source": ["web"]}') $$,
    'create_queue accepts filters mapping keys to lists of strings.');

-- Rules are checked whatever the topic: a queue on a topic is refused the same way.
select throws_ok($$ select fastqueue.create_queue('q', 'events', 0, 600) $$, '22023', null,
    'create_queue refuses a bad value on a queue subscribed to a topic too.');

select is_empty($$ select * from fastqueue.queues where id = 'q' $$,
    'No refused call created a queue.');

select set_eq(
    $$ select id from fastqueue.queues $$,
    array['Az09-._', 'ack-1', 'ack-600', 'dead', 'deliveries-1', 'deliveries-1000', 'delay-1', 'delay-900',
          'filters-ok', 'retention-max'],
    'Exactly the accepted queues were created.'
);

-- The stored edge values are the ones given.
select results_eq(
    $$ select ack_deadline_seconds from fastqueue.queues where id in ('ack-1', 'ack-600') order by 1 $$,
    array[1, 600],
    'The edge ack deadlines are stored as given.'
);
select results_eq(
    $$ select message_max_deliveries from fastqueue.queues where id like 'deliveries-%' order by 1 $$,
    array[1, 1000],
    'The edge delivery limits are stored as given.'
);
select results_eq(
    $$ select delivery_delay_seconds from fastqueue.queues where id like 'delay-%' order by 1 $$,
    array[1, 900],
    'The edge delivery delays are stored as given.'
);
select is(
    (select message_retention_seconds from fastqueue.queues where id = 'retention-max'),
    1209600,
    'The longest retention is stored as given.'
);

select * from finish();
rollback;

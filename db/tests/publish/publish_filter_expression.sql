-- Queues with a filter expression: create_queue and update_queue store the filter and its parsed
-- tree (or refuse it with 22023 and the position), and publish fans out only to queues whose
-- expression passes; a queue with message_filters as well needs both to pass.
begin;
select plan(15);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'all');
    perform fastqueue.create_queue('created', 'events', 30, 600, filter => 'attributes.event = "created"');
    perform fastqueue.create_queue('not-test', 'events', 30, 600, filter => 'NOT attributes:test');
    perform fastqueue.create_queue('eu-or-web', 'events', 30, 600,
        filter => 'hasPrefix(attributes.region, "eu-") OR attributes.source = "web"');
    -- Both kinds of filter: message_filters wants source web or app, the expression event created.
    perform fastqueue.create_queue('both', 'events', 30, 600, '{"source": ["web", "app"]}',
        filter => 'attributes.event = "created"');
end $$;

select results_eq(
    $$ select filter, filter_ast from fastqueue.queues where id = 'created' $$,
    $$ values ('attributes.event = "created"'::text, '{"op": "eq", "key": "event", "value": "created"}'::jsonb) $$,
    'create_queue stores the filter as written and its parsed tree.'
);
select results_eq(
    $$ select filter, filter_ast from fastqueue.queues where id = 'all' $$,
    $$ values (null::text, null::jsonb) $$,
    'A queue created without a filter has neither filter nor filter_ast.'
);

select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "web"}'),
    array['all', 'both', 'created', 'eu-or-web', 'not-test'],
    'A message that passes every filter reaches every queue.');
select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "cli", "test": "1"}'),
    array['all', 'created'],
    'A message reaches only the queues whose filters it passes.');
select is(fastqueue_tests.queues_reached('events', '{"event": "deleted", "region": "eu-west1"}'),
    array['all', 'eu-or-web', 'not-test'],
    'hasPrefix and OR select, NOT of a missing key passes.');
select is(fastqueue_tests.queues_reached('events', null),
    array['all', 'not-test'],
    'A message without attributes passes only NOT attributes:test (and no filter).');
select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "email"}'),
    array['all', 'created', 'not-test'],
    'A queue with both filters refuses a message that fails message_filters though its expression passes.');
select is(fastqueue_tests.queues_reached('events', '{"event": "deleted", "source": "app"}'),
    array['all', 'not-test'],
    'A queue with both filters refuses a message that fails its expression though message_filters passes.');
select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "app"}'),
    array['all', 'both', 'created', 'not-test'],
    'A queue with both filters takes a message that passes both.');

-- update_queue: replaces the filter and its tree; null clears both.
do $$ begin perform fastqueue.update_queue('created', 'events', 30, 600, filter => 'attributes.event = "deleted"'); end $$;
select results_eq(
    $$ select filter, filter_ast from fastqueue.queues where id = 'created' $$,
    $$ values ('attributes.event = "deleted"'::text, '{"op": "eq", "key": "event", "value": "deleted"}'::jsonb) $$,
    'update_queue stores the new filter and its tree.'
);
select is(fastqueue_tests.queues_reached('events', '{"event": "deleted", "test": "1"}'),
    array['all', 'created'],
    'The updated filter applies to messages published afterwards.');
do $$ begin perform fastqueue.update_queue('created', 'events', 30, 600); end $$;
select results_eq(
    $$ select filter, filter_ast from fastqueue.queues where id = 'created' $$,
    $$ values (null::text, null::jsonb) $$,
    'update_queue without a filter clears filter and filter_ast.'
);

select throws_ok(
    $$ select fastqueue.create_queue('bad', 'events', 30, 600, filter => 'attributes.event "x"') $$,
    '22023', 'filter: expected "=" or "!=" after attributes.event at position 18, found the string "x"',
    'create_queue refuses a filter that does not parse, naming the position.'
);
select throws_ok(
    $$ select fastqueue.update_queue('all', 'events', 30, 600, filter => 'attributes:a AND attributes:b OR attributes:c') $$,
    '22023', 'filter: OR at position 31 follows AND: AND and OR mix only with parentheses, e.g. a AND (b OR c)',
    'update_queue refuses a filter that does not parse.'
);
select throws_ok(
    $$ select fastqueue.create_queue('long', 'events', 30, 600, filter => repeat(' ', 240) || 'attributes:a AND attributes:b') $$,
    '22023', 'filter must be 1 to 256 characters',
    'create_queue refuses a filter over 256 characters with the length rule.'
);

select * from finish();
rollback;

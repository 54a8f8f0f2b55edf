-- publish with message_filters: a queue with a filter gets a message only if every filtered key is
-- among the attributes with one of its allowed values; a queue without a filter gets every message.
begin;
select plan(17);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'all');
    perform fastqueue.create_queue('by-event', 'events', 30, 600, '{"event": ["created", "updated"]}');
    perform fastqueue.create_queue('by-event-and-source', 'events', 30, 600, '{"event": ["created"], "source": ["web", "app"]}');

    perform fastqueue_tests.create_topic_with_queues('edge', 'edge-none');
    perform fastqueue.create_queue('edge-empty-object', 'edge', 30, 600, '{}');
    perform fastqueue.create_queue('edge-empty-list', 'edge', 30, 600, '{"event": []}');
end $$;

select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "web"}'),
    array['all', 'by-event', 'by-event-and-source'],
    'A message with every filtered key and allowed values reaches every queue.');
select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "app"}'),
    array['all', 'by-event', 'by-event-and-source'],
    'Any value in a key''s list is allowed.');
select is(fastqueue_tests.queues_reached('events', '{"event": "updated", "source": "web"}'),
    array['all', 'by-event'],
    'A value outside one key''s list keeps the message out of that queue, even when another key matches.');
select is(fastqueue_tests.queues_reached('events', '{"event": "created"}'),
    array['all', 'by-event'],
    'All keys are required: a message missing one filtered key does not reach the queue.');
select is(fastqueue_tests.queues_reached('events', '{"event": "created", "source": "web", "extra": "x"}'),
    array['all', 'by-event', 'by-event-and-source'],
    'Attributes the filter does not mention do not matter.');
select is(fastqueue_tests.queues_reached('events', '{"event": "deleted"}'),
    array['all'],
    'A value in no list reaches only the queue without a filter.');
select is(fastqueue_tests.queues_reached('events', '{"other": "created"}'),
    array['all'],
    'Attributes without the filtered keys reach only the queue without a filter.');
select is(fastqueue_tests.queues_reached('events', null),
    array['all'],
    'A message without attributes (null) reaches only the queue without a filter.');
select is(fastqueue_tests.queues_reached('events', 'null'::jsonb),
    array['all'],
    'A message with JSON null attributes reaches only the queue without a filter.');
select is(fastqueue_tests.queues_reached('events', '{}'),
    array['all'],
    'A message with empty attributes reaches only the queue without a filter.');
select is(fastqueue_tests.queues_reached('events', '{"event": "Created", "source": "web"}'),
    array['all'],
    'Values match case-sensitively.');
select is(fastqueue_tests.queues_reached('events', '{"event": "create", "source": "web"}'),
    array['all'],
    'Values match whole, not as a prefix.');
select is(fastqueue_tests.queues_reached('events', '{"Event": "created", "source": "web"}'),
    array['all'],
    'Keys match case-sensitively.');

select results_eq(
    $$ select queue_id, count(*)::integer from fastqueue.messages where queue_id in ('all', 'by-event', 'by-event-and-source')
        group by queue_id order by queue_id $$,
    $$ values ('all'::text, 13), ('by-event', 5), ('by-event-and-source', 3) $$,
    'Each queue stored exactly the messages that passed its filter.'
);

select is(fastqueue_tests.queues_reached('edge', '{"event": "created"}'),
    array['edge-empty-object', 'edge-none'],
    'An empty filter object requires no key; an empty list allows no value.');
select is(fastqueue_tests.queues_reached('edge', null),
    array['edge-empty-object', 'edge-none'],
    'An empty filter object takes messages without attributes too.');

-- A filter changed by update_queue applies to the next message.
do $$ begin perform fastqueue.update_queue('by-event', 'events', 30, 600, '{"event": ["deleted"]}'); end $$;
select is(fastqueue_tests.queues_reached('events', '{"event": "deleted"}'),
    array['all', 'by-event'],
    'A queue''s updated filter applies to messages published afterwards.');

select * from finish();
rollback;

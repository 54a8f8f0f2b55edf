-- create_queue: the stored queue, the defaults, missing topic / dead queue (P0002), duplicates (23505).
begin;
select plan(14);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('events-dead', null, 30, 1209600);
end $$;

select results_eq(
    $$ select id, topic_id, ack_deadline_seconds, message_retention_seconds, message_filters,
              dead_queue_id, message_max_deliveries, delivery_delay_seconds, created_at, updated_at
         from fastqueue.create_queue('events-all', 'events', 30, 600) $$,
    $$ values ('events-all'::text, 'events'::text, 30, 600, null::jsonb, null::text, null::integer, null::integer, now(), now()) $$,
    'create_queue returns the new queue; optional settings default to null; created_at and updated_at are now.'
);
select results_eq(
    $$ select * from fastqueue.queue_settings where id = 'events-all' $$,
    $$ select * from fastqueue.get_queue('events-all') $$,
    'create_queue stores the queue it returns.'
);

select results_eq(
    $$ select id, topic_id, ack_deadline_seconds, message_retention_seconds, message_filters,
              dead_queue_id, message_max_deliveries, delivery_delay_seconds
         from fastqueue.create_queue(
                  id => 'events-filtered',
                  topic_id => 'events',
                  ack_deadline_seconds => 60,
                  message_retention_seconds => 86400,
                  message_filters => '{"event_name": ["created", "updated"]}',
                  dead_queue_id => 'events-dead',
                  message_max_deliveries => 5,
                  delivery_delay_seconds => 10) $$,
    $$ values ('events-filtered'::text, 'events'::text, 60, 86400, '{"event_name": ["created", "updated"]}'::jsonb,
               'events-dead'::text, 5, 10) $$,
    'create_queue takes every setting by its HTTP field name and stores it.'
);
select results_eq(
    $$ select id, topic_id, message_filters, dead_queue_id, message_max_deliveries, delivery_delay_seconds
         from fastqueue.create_queue('events-positional', 'events', 30, 600, '{"a": ["b"]}', 'events-dead', 3, 900) $$,
    $$ values ('events-positional'::text, 'events'::text, '{"a": ["b"]}'::jsonb, 'events-dead'::text, 3, 900) $$,
    'create_queue takes every setting positionally, in the order of DESIGN.md.'
);
select is(
    (select topic_id from fastqueue.create_queue('standalone', null, 30, 600)),
    null,
    'create_queue accepts a null topic_id: a queue subscribed to nothing.'
);
select is(
    (select message_filters from fastqueue.create_queue('json-null-filter', null, 30, 600, 'null'::jsonb)),
    null,
    'create_queue stores a JSON null filter as no filter (SQL null).'
);

select throws_ok(
    $$ select fastqueue.create_queue('orphan', 'missing', 30, 600) $$,
    'P0002', 'Topic not found',
    'create_queue with an unknown topic raises P0002 "Topic not found".'
);
select throws_ok(
    $$ select fastqueue.create_queue('orphan', 'events', 30, 600, null, 'missing', 3) $$,
    'P0002', 'Queue not found',
    'create_queue with an unknown dead queue raises P0002 "Queue not found".'
);
select is_empty(
    $$ select * from fastqueue.queues where id = 'orphan' $$,
    'A refused queue is not created.'
);

select throws_ok(
    $$ select fastqueue.create_queue('events-all', 'events', 30, 600) $$,
    '23505', 'This queue already exists',
    'create_queue with an existing id raises 23505 "This queue already exists".'
);
select throws_ok(
    $$ select fastqueue.create_queue('events-all', null, 60, 7200) $$,
    '23505', 'This queue already exists',
    'create_queue with an existing id raises 23505 whatever the other settings.'
);
select results_eq(
    $$ select topic_id, ack_deadline_seconds, message_retention_seconds from fastqueue.queues where id = 'events-all' $$,
    $$ values ('events'::text, 30, 600) $$,
    'A refused duplicate leaves the existing queue unchanged.'
);

-- A queue and a topic are different namespaces.
select lives_ok(
    $$ select fastqueue.create_queue('events', 'events', 30, 600) $$,
    'create_queue accepts the id of an existing topic.'
);
select lives_ok(
    format('select fastqueue.create_queue(%L, null, 30, 600)', repeat('q', 128)),
    'create_queue accepts an id of 128 characters.'
);

select * from finish();
rollback;

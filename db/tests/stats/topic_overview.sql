-- topic_overview: one row per topic with its queues and what they hold for consumers now.
begin;
select plan(5);

do $$
begin
    perform fastqueue.create_topic('tov-busy', 600);
    perform fastqueue.create_topic('tov-idle');
    perform fastqueue_tests.create_queues('tov-busy', 'tov-b', 'tov-a');
    perform fastqueue.create_queue('tov-c-delayed', 'tov-busy', 30, 600, delivery_delay_seconds => 60);
    perform fastqueue.create_queue('tov-loose', null, 30, 600);
    perform fastqueue_tests.publish_numbered('tov-busy', 2);
    perform fastqueue.consume('tov-a', 1);
end $$;

select is(
    (select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum)
       from pg_catalog.pg_attribute a
      where a.attrelid = 'fastqueue.topic_overview'::regclass and a.attnum > 0 and not a.attisdropped),
    'id text, created_at timestamp with time zone, deduplication_window_seconds integer, queue_ids text[], '
    'queue_count bigint, available_messages bigint',
    'topic_overview has the topic''s columns, its queues and their available messages.'
);

select results_eq(
    $$ select id from fastqueue.topic_overview where id like 'tov-%' $$,
    $$ values ('tov-busy'), ('tov-idle') $$,
    'topic_overview has one row per topic, ordered by id.'
);

select results_eq(
    $$ select queue_ids, queue_count, available_messages, deduplication_window_seconds
         from fastqueue.topic_overview where id = 'tov-busy' $$,
    $$ values (array['tov-a', 'tov-b', 'tov-c-delayed'], 3::bigint, 3::bigint, 600) $$,
    'A topic lists its queues by id, counts them, and sums what they hold available (1 leased and 2 delayed left out).'
);

select is(
    (select available_messages from fastqueue.topic_overview where id = 'tov-busy'),
    (select sum(available_messages)::bigint from fastqueue.queue_overview where topic_id = 'tov-busy'),
    'available_messages is the sum of its queues'' available_messages in queue_overview.'
);

select results_eq(
    $$ select queue_ids, queue_count, available_messages, created_at
         from fastqueue.topic_overview where id = 'tov-idle' $$,
    $$ select '{}'::text[], 0::bigint, 0::bigint, created_at from fastqueue.get_topic('tov-idle') $$,
    'A topic without queues has an empty queue_ids, a queue_count and available_messages of 0.'
);

select * from finish();
rollback;

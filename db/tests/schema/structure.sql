-- The shape of the SQL API: which functions exist, their positional signatures and result types
-- (a contract other services code against, DESIGN.md), a COMMENT on each, and no overloads.
begin;
select plan(37);

-- Internal helpers are listed too: functions_are compares the whole schema, so adding or
-- dropping any function has to be a reviewed change of this list.
select functions_are(
    'fastqueue',
    array[
        -- the SQL API
        'create_topic', 'get_topic', 'list_topics', 'delete_topic',
        'create_queue', 'update_queue', 'get_queue', 'list_queues', 'delete_queue',
        'queue_stats', 'purge_queue', 'redrive_queue',
        'publish', 'consume', 'ack', 'nack', 'cleanup',
        -- beyond DESIGN.md's table (more functions are welcome): read by /metrics
        'queue_depths',
        -- beyond DESIGN.md's table: lease control and batch settling (consumer features)
        'set_deadline', 'ack_messages', 'nack_messages',
        -- beyond DESIGN.md's table: the long-polling gateway's safety re-check and its watches
        'available_queues', 'watch_queue',
        -- beyond DESIGN.md's table: many messages in one call (publisher features)
        'publish_batch',
        -- beyond DESIGN.md's table: one message straight to one queue (SQS's SendMessage, docs/sqs.md)
        'send',
        -- beyond DESIGN.md's table: look at a queue's messages without leasing them (the console)
        'peek',
        -- beyond DESIGN.md's table: the API's own manual for psql users (its functions and their COMMENTs)
        'manual',
        -- beyond DESIGN.md's table: the store's rotation (docs/storage.md, Rotation)
        'rotate_store', 'rotate_store_for',
        -- internal helpers
        '_constraint_message', '_delivery_limit', '_detach_dead_queue', '_earlier_of_key_pending', '_expression_matches', '_attributes_match_filters', '_is_available',
        '_require_latest_delivery', '_retry_backoff', '_publish_one', '_fan_out', '_save_queue', '_not_found', '_require_page', '_allowed',
        '_message_fault', '_batch_message_fault', '_raise_message_fault', '_max_message_bytes', '_max_response_bytes', '_bytes_setting', '_answer_bytes', '_notify_topic',
        '_move_messages', '_notify_available', '_parse_filter', '_parse_filter_expression', '_queue', '_require_between', '_topic',
        '_lock_topic', '_lock_queue', '_delete_messages', '_new_message_id', '_write_message',
        -- push delivery (docs/push.md): the worker's functions and their helpers
        'push_queues', 'report_push_states', 'push_metrics',
        '_check_push_endpoint', '_set_push_secret', '_notify_push_queues'
    ],
    'Schema fastqueue holds exactly the API functions and their internal helpers.'
);

select is_empty(
    $$ select p.oid::regprocedure::text
         from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
          and obj_description(p.oid, 'pg_proc') is null $$,
    'Every function in schema fastqueue has a COMMENT.'
);

select is_empty(
    $$ select p.proname
         from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
        group by p.proname
       having count(*) > 1 $$,
    'No function name in schema fastqueue is overloaded.'
);

-- Positional signature, parameter names (named notation uses the HTTP field names), defaults and
-- result type of each API function, as pg_get_function_arguments / pg_get_function_result print them.
create temp table api_signature on commit drop as
select p.proname::text as name,
       pg_catalog.pg_get_function_arguments(p.oid) || ' -> ' || pg_catalog.pg_get_function_result(p.oid) as signature
  from pg_catalog.pg_proc p
 where p.pronamespace = 'fastqueue'::regnamespace;

select is((select signature from api_signature where name = 'create_topic'),
    'id text, deduplication_window_seconds integer DEFAULT 300 -> fastqueue.topics',
    'create_topic(id, deduplication_window_seconds = 300) returns a topic.');
select is((select signature from api_signature where name = 'get_topic'),
    'id text -> fastqueue.topics',
    'get_topic(id) returns a topic.');
select is((select signature from api_signature where name = 'list_topics'),
    '"offset" integer DEFAULT 0, "limit" integer DEFAULT 10 -> SETOF fastqueue.topics',
    'list_topics(offset = 0, limit = 10) returns a set of topics.');
select is((select signature from api_signature where name = 'delete_topic'),
    'id text -> fastqueue.topics',
    'delete_topic(id) returns the deleted topic.');
select is((select signature from api_signature where name = 'create_queue'),
    'id text, topic_id text, ack_deadline_seconds integer, message_retention_seconds integer, '
    'message_filters jsonb DEFAULT NULL::jsonb, dead_queue_id text DEFAULT NULL::text, '
    'message_max_deliveries integer DEFAULT NULL::integer, delivery_delay_seconds integer DEFAULT NULL::integer, '
    'retry_min_backoff_seconds integer DEFAULT NULL::integer, retry_max_backoff_seconds integer DEFAULT NULL::integer, '
    'enable_message_ordering boolean DEFAULT false, filter text DEFAULT NULL::text, '
    'push_endpoint text DEFAULT NULL::text, push_format text DEFAULT ''wrapped''::text, '
    'push_secret text DEFAULT NULL::text, push_max_in_flight integer DEFAULT 16'
    ' -> fastqueue.queue_settings',
    'create_queue keeps the positional signature of DESIGN.md and returns a queue.');
select is((select signature from api_signature where name = 'update_queue'),
    'id text, topic_id text, ack_deadline_seconds integer, message_retention_seconds integer, '
    'message_filters jsonb DEFAULT NULL::jsonb, dead_queue_id text DEFAULT NULL::text, '
    'message_max_deliveries integer DEFAULT NULL::integer, delivery_delay_seconds integer DEFAULT NULL::integer, '
    'retry_min_backoff_seconds integer DEFAULT NULL::integer, retry_max_backoff_seconds integer DEFAULT NULL::integer, '
    'enable_message_ordering boolean DEFAULT false, filter text DEFAULT NULL::text, '
    'push_endpoint text DEFAULT NULL::text, push_format text DEFAULT ''wrapped''::text, '
    'push_secret text DEFAULT NULL::text, push_max_in_flight integer DEFAULT 16'
    ' -> fastqueue.queue_settings',
    'update_queue has the same parameters as create_queue and returns a queue.');
select is((select signature from api_signature where name = 'get_queue'),
    'id text -> fastqueue.queue_settings',
    'get_queue(id) returns a queue (queue_settings: what a caller sees of it).');
select is((select signature from api_signature where name = 'list_queues'),
    '"offset" integer DEFAULT 0, "limit" integer DEFAULT 10 -> SETOF fastqueue.queue_settings',
    'list_queues(offset = 0, limit = 10) returns a set of queues.');
select is((select signature from api_signature where name = 'delete_queue'),
    'id text -> fastqueue.queue_settings',
    'delete_queue(id) returns the deleted queue.');
select is((select signature from api_signature where name = 'queue_stats'),
    'id text -> fastqueue.queue_statistics',
    'queue_stats(id) returns a queue_statistics row.');
select is((select signature from api_signature where name = 'purge_queue'),
    'id text -> bigint',
    'purge_queue(id) returns a count.');
select is((select signature from api_signature where name = 'redrive_queue'),
    'id text, destination_queue_id text -> bigint',
    'redrive_queue(id, destination_queue_id) returns a count.');
select is((select signature from api_signature where name = 'publish'),
    'topic_id text, data jsonb, attributes jsonb DEFAULT NULL::jsonb, delay_seconds integer DEFAULT NULL::integer, '
    'deduplication_id text DEFAULT NULL::text, ordering_key text DEFAULT NULL::text -> SETOF fastqueue.messages',
    'publish(topic_id, data, attributes = null, delay_seconds = null, deduplication_id = null, ordering_key = null) returns a set of messages.');
select is((select signature from api_signature where name = 'publish_batch'),
    'topic_id text, messages jsonb -> SETOF fastqueue.messages',
    'publish_batch(topic_id, messages) returns a set of messages.');
select is((select signature from api_signature where name = 'send'),
    'queue_id text, data jsonb, attributes jsonb DEFAULT NULL::jsonb, delay_seconds integer DEFAULT NULL::integer'
    ' -> fastqueue.messages',
    'send(queue_id, data, attributes = null, delay_seconds = null) returns one message.');
select is((select signature from api_signature where name = 'consume'),
    'queue_id text, max_messages integer DEFAULT 10, ack_message_ids uuid[] DEFAULT NULL::uuid[] -> SETOF fastqueue.messages',
    'consume(queue_id, max_messages = 10, ack_message_ids = null) returns a set of messages.');
select is((select signature from api_signature where name = 'ack'),
    'message_id uuid, delivery_attempt integer DEFAULT NULL::integer -> boolean',
    'ack(message_id, delivery_attempt = null) returns a boolean.');
select is((select signature from api_signature where name = 'nack'),
    'message_id uuid, delivery_attempt integer DEFAULT NULL::integer, delay_seconds integer DEFAULT NULL::integer -> boolean',
    'nack(message_id, delivery_attempt = null, delay_seconds = null) returns a boolean.');
select is((select signature from api_signature where name = 'set_deadline'),
    'message_id uuid, seconds integer, delivery_attempt integer DEFAULT NULL::integer -> boolean',
    'set_deadline(message_id, seconds, delivery_attempt = null) returns a boolean.');
select is((select signature from api_signature where name = 'ack_messages'),
    'message_ids uuid[] -> integer',
    'ack_messages(message_ids) returns a count.');
select is((select signature from api_signature where name = 'nack_messages'),
    'message_ids uuid[], delay_seconds integer DEFAULT NULL::integer -> integer',
    'nack_messages(message_ids, delay_seconds = null) returns a count.');
select is((select signature from api_signature where name = 'cleanup'),
    ' -> fastqueue.cleanup_summary',
    'cleanup() takes no argument and returns a cleanup_summary row.');
select is((select signature from api_signature where name = 'rotate_store'),
    ' -> fastqueue.rotation_summary',
    'rotate_store() takes no argument and returns a rotation_summary row.');
select is((select pg_catalog.pg_get_function_arguments(p.oid) || ' / ' || p.prokind::text
             from pg_catalog.pg_proc p where p.oid = 'fastqueue.rotate_store_for'::regproc),
    'IN seconds integer / p',
    'rotate_store_for(seconds) is a procedure.');
select is((select signature from api_signature where name = 'peek'),
    'queue_id text, max_messages integer DEFAULT 10 -> SETOF fastqueue.messages',
    'peek(queue_id, max_messages = 10) returns a set of messages.');
select is((select signature from api_signature where name = 'available_queues'),
    'queue_ids text[] -> SETOF text',
    'available_queues(queue_ids) returns a set of queue ids.');

select is((select signature from api_signature where name = 'watch_queue'),
    'queue_id text, watcher text, seconds integer DEFAULT 30 -> timestamp with time zone',
    'watch_queue(queue_id, watcher, seconds = 30) returns when the watch ends.');

-- The composite result types, column by column.
create temp table result_type_columns on commit drop as
select t.typname::text as type_name,
       string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' order by a.attnum) as columns
  from pg_catalog.pg_type t
  join pg_catalog.pg_attribute a on a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped
 where t.typnamespace = 'fastqueue'::regnamespace
 group by t.typname;

-- DESIGN.md welcomes more columns after these two.
select alike((select columns from result_type_columns where type_name = 'queue_statistics'),
    'num_undelivered_messages bigint, oldest_unacked_message_age_seconds integer%',
    'queue_statistics starts with num_undelivered_messages (bigint) and oldest_unacked_message_age_seconds (integer).');
select is((select columns from result_type_columns where type_name = 'cleanup_summary'),
    'expired_messages bigint, dead_lettered_messages bigint, expired_deduplications bigint',
    'cleanup_summary holds expired_messages, dead_lettered_messages and expired_deduplications.');
select is((select columns from result_type_columns where type_name = 'rotation_summary'),
    'outcome text, current_slot smallint, carried_deliveries integer, carried_bodies integer, carried_in_flight integer, dropped_expired integer, dropped_orphaned integer, waited_for_lock boolean',
    'rotation_summary holds outcome, current_slot, what was carried and dropped, and whether the lock was waited for.');

-- Views are code too (db/functions/, applied after the functions they call): the console's overviews.
-- messages: the store's deliveries with their bodies (migration 0009), the row type of the API's results.
-- queue_settings: a queue without its internal columns (migration 0013), the queue functions' result type.
-- store_overview: the store's rotation (migration 0010).
select views_are('fastqueue', array['messages', 'queue_settings', 'queue_overview', 'topic_overview', 'store_overview'],
    'Schema fastqueue holds exactly the views messages, queue_settings, queue_overview, topic_overview and store_overview.');
select is_empty(
    $$ select c.relname from pg_catalog.pg_class c
        where c.relnamespace = 'fastqueue'::regnamespace and c.relkind = 'v'
          and obj_description(c.oid, 'pg_class') is null $$,
    'Every view in schema fastqueue has a COMMENT.'
);
select is_empty(
    $$ select c.relname from pg_catalog.pg_class c
        where c.relnamespace = 'fastqueue'::regnamespace and c.relkind = 'v'
          and coalesce(c.reloptions::text[], '{}') && array['security_invoker=true', 'security_invoker=on'] $$,
    'No view in schema fastqueue is security_invoker: its readers need no privilege on the tables.'
);

select has_trigger('fastqueue', 'queues', 'queues_detach_dead_queue',
    'Table queues has the trigger that detaches queues from a deleted dead queue.');

select * from finish();
rollback;

-- Issue 16, one owner per rule (the SQL half).
--
-- A message's rules have one owner each: _message_fault (and _batch_message_fault for an element of
-- publish_batch's array) names the first rule broken, _raise_message_fault says it; the four
-- functions that kept the same rules in step go. The fan-out is one function (_fan_out) that publish,
-- publish_batch and _publish_one store through (_publish_one now takes the message as jsonb and no
-- longer calls publish). _require_between takes an int4range (from _allowed, the one owner of the
-- ranges several functions check); _notify_topic returns nothing. The two filter predicates get
-- names that say which filter they evaluate. db/functions/ recreates all of them.
drop function if exists fastqueue._message_valid(jsonb, jsonb, integer, text, text, bigint);
drop function if exists fastqueue._check_message(jsonb, jsonb, integer, text, text, text);
drop function if exists fastqueue._batch_message_valid(jsonb, bigint);
drop function if exists fastqueue._check_batch_message(jsonb, text);
drop function if exists fastqueue._publish_one(fastqueue.topics, jsonb, jsonb, integer, text, text);
drop function if exists fastqueue._require_between(text, integer, integer, integer);
drop function if exists fastqueue._notify_topic(text);
drop function if exists fastqueue._filters_match(jsonb, jsonb);
drop function if exists fastqueue._filter_matches(jsonb, jsonb);

-- The queue functions return what a caller should see: every column of fastqueue.queues but
-- filter_ast, the parsed filter expression that only publish reads (the filter's text is there).
-- A new result type: the functions go first and db/functions/ recreates them, with their grants.
drop function if exists fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer);
drop function if exists fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer);
drop function if exists fastqueue.get_queue(text);
drop function if exists fastqueue.list_queues(integer, integer);
drop function if exists fastqueue.delete_queue(text);

create view fastqueue.queue_settings as
select q.id,
       q.topic_id,
       q.ack_deadline_seconds,
       q.message_retention_seconds,
       q.message_filters,
       q.dead_queue_id,
       q.message_max_deliveries,
       q.delivery_delay_seconds,
       q.created_at,
       q.updated_at,
       q.retry_min_backoff_seconds,
       q.retry_max_backoff_seconds,
       q.enable_message_ordering,
       q.filter,
       q.push_endpoint,
       q.push_format,
       q.push_max_in_flight,
       q.push_secret_set
  from fastqueue.queues q;
comment on view fastqueue.queue_settings is
    'A queue as a caller sees it: every setting of fastqueue.queues but the internal filter_ast (push_secret_set, never the secret). The result type of create_queue, update_queue, get_queue, list_queues and delete_queue.';

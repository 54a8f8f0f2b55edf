create or replace view fastqueue.queue_overview as
-- Every queue with its settings and its counts. The counts are queue_stats()'s own (one place
-- defines what "available", "in flight", "delayed" and "dead-letter candidate" mean), called once
-- per queue: each call is keyed by queue_id, as every statement on messages is. queue_stats is
-- SECURITY DEFINER, so a reader needs EXECUTE on it (fastqueue_admin has it) and nothing on the
-- tables: a view reads tables with its owner's rights but calls functions with the reader's.
-- CREATE OR REPLACE VIEW can only append columns: removing or retyping one needs a migration that
-- drops the view first (db-migrate applies view files after every function file and recreates it).
select q.id,
       q.topic_id,
       q.dead_queue_id,
       q.message_filters,
       q.filter,
       q.ack_deadline_seconds,
       q.message_retention_seconds,
       q.message_max_deliveries,
       q.delivery_delay_seconds,
       q.enable_message_ordering,
       q.retry_min_backoff_seconds,
       q.retry_max_backoff_seconds,
       s.num_undelivered_messages as available_messages,
       s.num_inflight_messages as inflight_messages,
       s.num_delayed_messages as delayed_messages,
       s.num_dead_letter_candidates as dead_letter_candidates,
       (select count(*) from fastqueue.deliveries m where m.queue_id = q.id) as total_messages,
       s.oldest_unacked_message_age_seconds as oldest_message_age_seconds,
       q.created_at,
       q.updated_at,
       q.push_endpoint,
       q.push_format,
       q.push_secret_set,
       q.push_max_in_flight,
       s.push_in_flight,
       s.push_window
  from fastqueue.queues q
 cross join lateral fastqueue.queue_stats(q.id) s
 order by q.id;

comment on view fastqueue.queue_overview is
'One row per queue, ordered by id: its settings and its message counts, as fastqueue.queue_stats() reports them. available_messages: a consumer could lease them now (num_undelivered_messages); inflight_messages: leased now; delayed_messages: never delivered and scheduled later; dead_letter_candidates: on a queue with a dead queue, unexpired and delivered message_max_deliveries times (cleanup() moves them); total_messages: every message stored, expired ones not yet cleaned up included; oldest_message_age_seconds: age of the oldest available message (oldest_unacked_message_age_seconds), 0 when none; push_endpoint, push_format, push_secret_set (never the secret), push_max_in_flight, push_in_flight and push_window for push queues (docs/push.md). For fastqueue_admin; `fastqueue stats` prints it.
Example: select id, available_messages, inflight_messages, delayed_messages from fastqueue.queue_overview;';

revoke all on fastqueue.queue_overview from public;
grant select on fastqueue.queue_overview to fastqueue_admin;

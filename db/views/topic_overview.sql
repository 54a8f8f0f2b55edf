create or replace view fastqueue.topic_overview as
-- Every topic with the queues subscribed to it and what they hold for consumers now. The per-queue
-- count is queue_stats()'s, as in queue_overview (see there for why a reader needs EXECUTE on it).
select t.id,
       t.created_at,
       t.deduplication_window_seconds,
       coalesce(s.queue_ids, '{}') as queue_ids,
       s.queue_count,
       coalesce(s.available_messages, 0) as available_messages
  from fastqueue.topics t
 cross join lateral (
        -- An aggregate without GROUP BY: exactly one row, also for a topic without queues.
        select array_agg(q.id order by q.id) as queue_ids,
               count(*) as queue_count,
               sum(st.num_undelivered_messages)::bigint as available_messages
          from fastqueue.queues q
         cross join lateral fastqueue.queue_stats(q.id) st
         where q.topic_id = t.id) s
 order by t.id;

comment on view fastqueue.topic_overview is
'One row per topic, ordered by id: its settings, queue_ids (the queues subscribed to it, ordered by id; empty when none), queue_count, and available_messages, the sum over those queues of what a consumer could lease now (queue_stats()''s num_undelivered_messages). For fastqueue_admin.
Example: select * from fastqueue.topic_overview;';

revoke all on fastqueue.topic_overview from public;
grant select on fastqueue.topic_overview to fastqueue_admin;

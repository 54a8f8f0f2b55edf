create or replace function fastqueue.queue_depths()
returns table (queue_id text, available_messages bigint, total_messages bigint)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    -- One small count per queue, keyed by queue_id, rather than one grouped scan of every message:
    -- it stays a per-queue statement when messages are distributed by queue_id.
    select q.id, d.available_messages, d.total_messages
      from fastqueue.queues q
     cross join lateral (
            select count(*) filter (where fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                                                  fastqueue._delivery_limit(q))) as available_messages,
                   count(*) as total_messages
              from fastqueue.deliveries m
             where m.queue_id = q.id) d
     order by q.id
$$;

comment on function fastqueue.queue_depths() is
'One row per queue, ordered by id: available_messages is what a consumer could lease now (the num_undelivered_messages of queue_stats()), total_messages every message stored in the queue (leased, delayed and expired-but-not-yet-cleaned-up included). Read by the gateway''s /metrics.
Example: select * from fastqueue.queue_depths();';

revoke execute on function fastqueue.queue_depths() from public;
grant execute on function fastqueue.queue_depths() to fastqueue_admin;

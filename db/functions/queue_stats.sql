create or replace function fastqueue.queue_stats(id text)
returns fastqueue.queue_statistics
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(queue_stats.id);
    v_stats fastqueue.queue_statistics;
begin
    -- What a consumer could lease right now.
    select count(*),
           coalesce(floor(extract(epoch from now() - min(m.created_at)))::integer, 0)
      into v_stats.num_undelivered_messages, v_stats.oldest_unacked_message_age_seconds
      from fastqueue.messages m
     where m.queue_id = v_queue.id
       and fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                   fastqueue._delivery_limit(v_queue));
    return v_stats;
end;
$$;

comment on function fastqueue.queue_stats(text) is
'Counts the messages a consumer could lease now (not leased, not delayed, not expired, not past the delivery limit): num_undelivered_messages, and the age in seconds of the oldest of them (0 when there are none).
Errors: P0002 "Queue not found".
Example: select * from fastqueue.queue_stats(''all-events'');';

revoke execute on function fastqueue.queue_stats(text) from public;
grant execute on function fastqueue.queue_stats(text) to fastqueue_consumer, fastqueue_admin;

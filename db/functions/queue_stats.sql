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
    -- One pass over the queue's messages. The first two counts are what a consumer could lease now;
    -- the others are the messages it cannot lease yet, or ever.
    select count(*) filter (where fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                                          fastqueue._delivery_limit(v_queue))),
           coalesce(floor(extract(epoch from now() - min(m.created_at) filter (
                        where fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                                      fastqueue._delivery_limit(v_queue)))))::integer, 0),
           count(*) filter (where m.delivery_attempts > 0 and m.scheduled_at > now() and m.expired_at > now()),
           count(*) filter (where m.delivery_attempts = 0 and m.scheduled_at > now() and m.expired_at > now()),
           count(*) filter (where v_queue.dead_queue_id is not null
                              and m.delivery_attempts >= v_queue.message_max_deliveries
                              and m.expired_at > now())
      into v_stats.num_undelivered_messages, v_stats.oldest_unacked_message_age_seconds,
           v_stats.num_inflight_messages, v_stats.num_delayed_messages, v_stats.num_dead_letter_candidates
      from fastqueue.deliveries m
     where m.queue_id = v_queue.id;
    -- Push delivery, as the workers report it (null for a pull queue). A request never outlives its
    -- lease, so a report older than the ack deadline (a killed worker's) has nothing in flight.
    if v_queue.push_endpoint is not null then
        select coalesce(sum(p.in_flight) filter (
                   where p.updated_at > now() - v_queue.ack_deadline_seconds * interval '1 second'), 0),
               (array_agg(p."window" order by p.updated_at desc))[1]
          into v_stats.push_in_flight, v_stats.push_window
          from fastqueue.push_states p
         where p.queue_id = v_queue.id;
    end if;
    return v_stats;
end;
$$;

comment on function fastqueue.queue_stats(text) is
'Counts a queue''s messages: num_undelivered_messages, those a consumer could lease now (not leased, not delayed, not expired, not past the delivery limit), and oldest_unacked_message_age_seconds, the age in seconds of the oldest of them (0 when there are none); num_inflight_messages, leased now (delivered at least once, lease not over, not expired; a nack with a delay keeps counting here until the delay is over); num_delayed_messages, never delivered and scheduled in the future (delivery_delay_seconds); num_dead_letter_candidates, on a queue with a dead queue, not expired and delivered message_max_deliveries times already (cleanup() moves them once their last lease has ended; the last lease is also counted in flight); on a push queue (else null) push_in_flight, the push requests `fastqueue worker` has in flight now, and push_window, the endpoint''s current window of concurrent requests (null until a worker reported one).
Errors: P0002 "Queue not found".
Example: select * from fastqueue.queue_stats(''all-events'');';

revoke execute on function fastqueue.queue_stats(text) from public;
grant execute on function fastqueue.queue_stats(text) to fastqueue_consumer, fastqueue_admin;

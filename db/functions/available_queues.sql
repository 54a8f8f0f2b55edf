create or replace function fastqueue.available_queues(queue_ids text[])
returns setof text
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    -- The long-polling gateway's safety re-check: one statement per second per server process for
    -- every queue its consumers wait on, however many there are. It catches what sends no NOTIFY:
    -- a delivery delay or a lease that ran out. "Available" is _is_available's, as in consume.
    -- One index probe per queue (queue_id, scheduled_at), stopping at the first message found.
    select q.id
      from fastqueue.queues q
     where q.id = any (available_queues.queue_ids)
       and exists (select
                     from fastqueue.deliveries m
                    where m.queue_id = q.id
                      and fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                                  fastqueue._delivery_limit(q)))
     order by q.id
$$;

comment on function fastqueue.available_queues(text[]) is
'Returns the ids among queue_ids of the queues that have a message a consumer could lease now (due, not expired, not past the delivery limit), in id order. Ids of queues that do not exist are ignored; null or an empty array returns nothing.
Used by the HTTP gateway''s long polling as a periodic safety re-check (messages whose delivery delay or lease ends send no NOTIFY); a cheap way for any poller to ask about many queues at once.
Example: select * from fastqueue.available_queues(array[''all-events'', ''all-events-dead'']);';

revoke execute on function fastqueue.available_queues(text[]) from public;
grant execute on function fastqueue.available_queues(text[]) to fastqueue_consumer, fastqueue_admin;

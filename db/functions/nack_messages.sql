create or replace function fastqueue.nack_messages(message_ids uuid[], delay_seconds integer default null)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_nacked integer;
    v_available_queue_ids text[];
begin
    perform fastqueue._require_between('the number of message_ids', cardinality(nack_messages.message_ids),
                                       fastqueue._allowed('batch_size'));
    if nack_messages.delay_seconds is not null then
        perform fastqueue._require_between('delay_seconds', nack_messages.delay_seconds, fastqueue._allowed('delay_seconds'));
    end if;
    -- Rows are locked in id order, so two overlapping batches wait for each other instead of
    -- deadlocking. Without a delay each message waits its own queue's backoff for its own attempt.
    with locked as (
        select m.id
          from fastqueue.deliveries m
         where m.id = any (nack_messages.message_ids)
         order by m.id
           for update
    ),
    nacked as (
        update fastqueue.deliveries m
           set scheduled_at = now() + coalesce(nack_messages.delay_seconds,
                                               fastqueue._retry_backoff(q, m.delivery_attempts))
                                      * interval '1 second',
               updated_at = now()
          from locked l, fastqueue.queues q
         where m.id = l.id
           and q.id = m.queue_id
        returning m.queue_id, m.scheduled_at <= now() as available_now
    )
    select count(*), array_agg(distinct n.queue_id) filter (where n.available_now)
      into v_nacked, v_available_queue_ids
      from nacked n;
    -- Wake long-polling consumers of every queue that has a message available again now.
    perform fastqueue._notify_available(a.queue_id) from unnest(v_available_queue_ids) a (queue_id);
    return v_nacked;
end;
$$;

comment on function fastqueue.nack_messages(uuid[], integer) is
'Gives 1 to 1000 messages back at once, in one transaction, each as by nack(): available after delay_seconds (0..900) if given, otherwise after its queue''s retry backoff for its own delivery_attempts (at once without backoff). Returns how many were nacked; ids of messages that no longer exist (or repeated ids) are not counted, and are not errors.
Errors: 22023 when message_ids is null, empty or longer than 1000, or delay_seconds is out of range.
Example: select fastqueue.nack_messages(array[''671cfac2-252c-4c22-9abc-28809a4f9fe8'']::uuid[], delay_seconds => 30);';

revoke execute on function fastqueue.nack_messages(uuid[], integer) from public;
grant execute on function fastqueue.nack_messages(uuid[], integer) to fastqueue_consumer, fastqueue_admin;

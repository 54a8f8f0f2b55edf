create or replace function fastqueue.nack(
    message_id uuid,
    delivery_attempt integer default null,
    delay_seconds integer default null
)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_message fastqueue.deliveries;
    v_queue fastqueue.queues;
    v_delay integer;
begin
    if nack.delivery_attempt is not null then
        perform fastqueue._require_between('delivery_attempt', nack.delivery_attempt, int4range(1, null));
    end if;
    if nack.delay_seconds is not null then
        perform fastqueue._require_between('delay_seconds', nack.delay_seconds, fastqueue._allowed('delay_seconds'));
    end if;
    select * into v_message from fastqueue.deliveries m where m.id = nack.message_id for update;
    if not found then
        return false;
    end if;
    -- A message whose queue was deleted under it (delete_queue deletes it next, or cleanup() does
    -- for one a late publish left behind) is no message of any queue: unknown, as a deleted one.
    select * into v_queue from fastqueue.queues q where q.id = v_message.queue_id;
    if not found then
        return false;
    end if;
    if nack.delivery_attempt is not null then
        perform fastqueue._require_latest_delivery(nack.message_id, v_message.delivery_attempts, nack.delivery_attempt);
    end if;
    v_delay := coalesce(nack.delay_seconds, fastqueue._retry_backoff(v_queue, v_message.delivery_attempts));
    update fastqueue.deliveries m
       set scheduled_at = now() + v_delay * interval '1 second', updated_at = now()
     where m.id = nack.message_id;
    -- Long-polling consumers wait on this; a delayed message wakes nobody (it is not there yet).
    if v_delay = 0 then
        perform fastqueue._notify_available(v_message.queue_id);
    end if;
    return true;
end;
$$;

comment on function fastqueue.nack(uuid, integer, integer) is
'Gives a leased message back for another delivery, to this or another consumer. Returns false when no such message exists (also when its queue was deleted).
When: after delay_seconds (0..900) if given; otherwise after the queue''s retry backoff, min(retry_max_backoff_seconds, retry_min_backoff_seconds * 2^(delivery_attempts - 1)) seconds; at once on a queue without retry backoff.
delivery_attempt (optional, fencing): as for ack, the nack succeeds only while that delivery is the latest one.
Errors: FQ409 "Stale delivery: the message is now on delivery attempt <n>, not <given>" (nothing changed); 22023 when delay_seconds or delivery_attempt is out of range.
Example: select fastqueue.nack(''671cfac2-252c-4c22-9abc-28809a4f9fe8'', delivery_attempt => 1, delay_seconds => 60);';

revoke execute on function fastqueue.nack(uuid, integer, integer) from public;
grant execute on function fastqueue.nack(uuid, integer, integer) to fastqueue_consumer, fastqueue_admin;

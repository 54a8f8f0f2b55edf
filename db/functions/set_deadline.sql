create or replace function fastqueue.set_deadline(
    message_id uuid,
    seconds integer,
    delivery_attempt integer default null
)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_message fastqueue.deliveries;
begin
    perform fastqueue._require_between('seconds', set_deadline.seconds, int4range(0, 600, '[]'));
    if set_deadline.delivery_attempt is not null then
        perform fastqueue._require_between('delivery_attempt', set_deadline.delivery_attempt, int4range(1, null));
    end if;
    select * into v_message from fastqueue.deliveries m where m.id = set_deadline.message_id for update;
    if not found then
        return false;
    end if;
    -- A message whose queue was deleted under it is no message of any queue: unknown (as in nack).
    if not exists (select from fastqueue.queues q where q.id = v_message.queue_id) then
        return false;
    end if;
    if set_deadline.delivery_attempt is not null then
        perform fastqueue._require_latest_delivery(set_deadline.message_id, v_message.delivery_attempts,
                                                   set_deadline.delivery_attempt);
    end if;
    -- The lease is the message's scheduled_at: moving it extends or shortens the lease without
    -- counting a delivery.
    update fastqueue.deliveries m
       set scheduled_at = now() + set_deadline.seconds * interval '1 second', updated_at = now()
     where m.id = set_deadline.message_id;
    if set_deadline.seconds = 0 then
        perform fastqueue._notify_available(v_message.queue_id);
    end if;
    return true;
end;
$$;

comment on function fastqueue.set_deadline(uuid, integer, integer) is
'Sets the end of a message''s lease to seconds (0..600) from now, like Pub/Sub''s modifyAckDeadline or SQS''s ChangeMessageVisibility: extend the lease of a message that takes long to process, or end it at once with 0 (available again, without counting a delivery). Returns false when no such message exists (also when its queue was deleted).
delivery_attempt (optional, fencing): as for ack, the call succeeds only while that delivery is the latest one.
Errors: FQ409 "Stale delivery: the message is now on delivery attempt <n>, not <given>" (nothing changed); 22023 when seconds or delivery_attempt is out of range.
Example: select fastqueue.set_deadline(''671cfac2-252c-4c22-9abc-28809a4f9fe8'', 120, delivery_attempt => 1);';

revoke execute on function fastqueue.set_deadline(uuid, integer, integer) from public;
grant execute on function fastqueue.set_deadline(uuid, integer, integer) to fastqueue_consumer, fastqueue_admin;

create or replace function fastqueue.ack(message_id uuid, delivery_attempt integer default null)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_current_attempt integer;
    v_queue_id text;
    v_ordering_key text;
begin
    if ack.delivery_attempt is not null then
        perform fastqueue._require_between('delivery_attempt', ack.delivery_attempt, int4range(1, null));
        -- The row lock keeps consume (SKIP LOCKED) from redelivering it between check and delete.
        select m.delivery_attempts into v_current_attempt
          from fastqueue.deliveries m
         where m.id = ack.message_id
           for update;
        if not found then
            return false;
        end if;
        perform fastqueue._require_latest_delivery(ack.message_id, v_current_attempt, ack.delivery_attempt);
    end if;
    delete from fastqueue.deliveries m where m.id = ack.message_id
    returning m.queue_id, m.ordering_key into v_queue_id, v_ordering_key;
    if not found then
        return false;
    end if;
    if v_ordering_key is not null then
        -- The next message of its ordering key may be leased now: wake long-polling consumers.
        perform fastqueue._notify_available(v_queue_id);
    end if;
    return true;
end;
$$;

comment on function fastqueue.ack(uuid, integer) is
'Acknowledges a message: it was processed and is deleted. Returns false, not an error, when no such message exists (already acked, purged or expired).
delivery_attempt (optional, fencing): the delivery_attempts that consume returned with the message; the ack then succeeds only while that delivery is the latest one, so a consumer whose lease ran out cannot delete a message already delivered again.
Errors: FQ409 "Stale delivery: the message is now on delivery attempt <n>, not <given>" (nothing changed); 22023 when delivery_attempt is below 1.
Example: select fastqueue.ack(''671cfac2-252c-4c22-9abc-28809a4f9fe8'', delivery_attempt => 1);';

revoke execute on function fastqueue.ack(uuid, integer) from public;
grant execute on function fastqueue.ack(uuid, integer) to fastqueue_consumer, fastqueue_admin;

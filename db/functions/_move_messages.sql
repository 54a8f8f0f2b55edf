create or replace function fastqueue._move_messages(message_ids uuid[], destination_queue_id text)
returns bigint
language plpgsql
as $$
declare
    v_moved bigint;
begin
    -- The destination is locked against delete_queue until this transaction ends (messages has no
    -- foreign key to do it): a delete_queue that comes later waits, then deletes the moved messages
    -- with their new queue; if one came first, there is nothing to move into: null, nothing moved.
    perform from fastqueue.queues d where d.id = _move_messages.destination_queue_id for key share;
    if not found then
        return null;
    end if;
    -- Moved messages start over in their new queue as if newly published there: a new id, no
    -- deliveries yet, that queue's retention and delivery delay. The new id is the fence across the
    -- move: a consumer of a delivery from before it names an id that no longer exists, so its ack,
    -- nack or deadline change cannot reach the copy that moved, whose delivery_attempts start again
    -- at 0. created_at is kept: it is when the message was published.
    with moved as (
        update fastqueue.deliveries m
           set id = fastqueue._new_message_id(),
               queue_id = d.id,
               delivery_attempts = 0,
               expired_at = now() + d.message_retention_seconds * interval '1 second',
               scheduled_at = now() + coalesce(d.delivery_delay_seconds, 0) * interval '1 second',
               updated_at = now()
          from fastqueue.queues d
         where d.id = _move_messages.destination_queue_id
           and m.id = any (_move_messages.message_ids)
        returning 1
    )
    select count(*) into v_moved from moved;
    if v_moved > 0 then
        -- Wakes the destination's long-polling consumers at commit (with a delivery delay there,
        -- they find nothing yet and the gateway's re-check picks the messages up when it ends).
        perform fastqueue._notify_available(_move_messages.destination_queue_id);
    end if;
    return v_moved;
end;
$$;

comment on function fastqueue._move_messages(uuid[], text) is
'Internal: moves these messages into the destination queue as if newly published there (a new id, delivery_attempts 0, its retention and delay; created_at, data, attributes and ordering kept). The destination is locked against delete_queue until the transaction ends; returns null, moving nothing, when it no longer exists. Returns how many moved, and notifies the destination''s long-polling consumers when any did. Used by redrive_queue and cleanup.';

revoke execute on function fastqueue._move_messages(uuid[], text) from public;

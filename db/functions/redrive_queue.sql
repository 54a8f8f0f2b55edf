create or replace function fastqueue.redrive_queue(id text, destination_queue_id text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(redrive_queue.id);
    v_destination fastqueue.queues := fastqueue._queue(redrive_queue.destination_queue_id);
    v_moved bigint;
begin
    if v_destination.id = v_queue.id then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'destination_queue_id must name another queue, not the queue being redriven';
    end if;
    -- Only available messages move: leased ones stay with their consumer, delayed ones keep waiting,
    -- and ones past their delivery limit are on their way to the dead queue.
    -- _move_messages also wakes the destination's long-polling consumers when something moved.
    v_moved := fastqueue._move_messages(
        array(select m.id
                from fastqueue.deliveries m
               where m.queue_id = v_queue.id
                 and fastqueue._is_available(m.scheduled_at, m.expired_at, m.delivery_attempts,
                                             fastqueue._delivery_limit(v_queue))
                 for update skip locked),
        v_destination.id);
    if v_moved is null then
        perform fastqueue._queue(v_destination.id);  -- deleted meanwhile: raises "Queue not found"
    end if;
    return coalesce(v_moved, 0);  -- 0: deleted and created again meanwhile, nothing moved
end;
$$;

comment on function fastqueue.redrive_queue(text, text) is
'Moves the available messages of a queue (typically a dead queue) to destination_queue_id, reset as if newly published there: a new id (so a consumer still holding a delivery from before the move cannot settle the moved copy), delivery_attempts 0, the destination''s retention and delivery delay. Leased, delayed and expired messages stay. Returns how many moved. A delete_queue of the destination running meanwhile either waits for the redrive (and then deletes the moved messages with the queue) or, if it came first, makes the redrive fail with "Queue not found", nothing moved. When some moved, long-polling consumers of the destination are woken at commit (NOTIFY fastqueue_available).
Errors: P0002 "Queue not found"; 22023 when the destination is the queue itself.
Example: select fastqueue.redrive_queue(''all-events-dead'', ''all-events'');';

revoke execute on function fastqueue.redrive_queue(text, text) from public;
grant execute on function fastqueue.redrive_queue(text, text) to fastqueue_admin;

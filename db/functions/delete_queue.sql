create or replace function fastqueue.delete_queue(id text)
returns fastqueue.queues
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues;
begin
    -- Queues that used it as their dead queue are detached by the trigger queues_detach_dead_queue.
    delete from fastqueue.queues q where q.id = delete_queue.id returning * into v_queue;
    if not found then
        perform fastqueue._queue(delete_queue.id);  -- raises "Queue not found"
    end if;
    -- Its messages go with it (messages has no foreign key: see db/schema.sql).
    delete from fastqueue.deliveries m where m.queue_id = v_queue.id;
    return v_queue;
end;
$$;

comment on function fastqueue.delete_queue(text) is
'Deletes a queue with all its messages and returns it. Queues that used it as their dead queue lose dead_queue_id and message_max_deliveries.
Errors: P0002 "Queue not found".
Example: select * from fastqueue.delete_queue(''all-events'');';

revoke execute on function fastqueue.delete_queue(text) from public;
grant execute on function fastqueue.delete_queue(text) to fastqueue_admin;

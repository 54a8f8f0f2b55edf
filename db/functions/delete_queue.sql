create or replace function fastqueue.delete_queue(id text)
returns fastqueue.queue_settings
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queue_settings;
begin
    -- The queue as a caller sees it, locked against changes until it is deleted.
    select * into v_queue from fastqueue.queue_settings s where s.id = delete_queue.id for update;
    if not found then
        perform fastqueue._not_found('Queue', delete_queue.id);
    end if;
    -- Queues that used it as their dead queue are detached by the trigger queues_detach_dead_queue.
    delete from fastqueue.queues q where q.id = delete_queue.id;
    -- Its messages go with it (messages has no foreign key: see db/schema.sql).
    delete from fastqueue.deliveries m where m.queue_id = v_queue.id;
    return v_queue;
end;
$$;

comment on function fastqueue.delete_queue(text) is
'Deletes a queue with all its messages and returns it (fastqueue.queue_settings, as it was). Queues that used it as their dead queue lose dead_queue_id and message_max_deliveries.
Errors: P0002 "Queue not found".
Example: select * from fastqueue.delete_queue(''all-events'');';

revoke execute on function fastqueue.delete_queue(text) from public;
grant execute on function fastqueue.delete_queue(text) to fastqueue_admin;

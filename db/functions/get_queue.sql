create or replace function fastqueue.get_queue(id text)
returns fastqueue.queue_settings
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queue_settings;
begin
    select * into v_queue from fastqueue.queue_settings s where s.id = get_queue.id;
    if not found then
        perform fastqueue._not_found('Queue', get_queue.id);
    end if;
    return v_queue;
end;
$$;

comment on function fastqueue.get_queue(text) is
'Returns the queue with this id (fastqueue.queue_settings: its settings as a caller sees them).
Errors: P0002 "Queue not found".
Example: select * from fastqueue.get_queue(''all-events'');';

revoke execute on function fastqueue.get_queue(text) from public;
grant execute on function fastqueue.get_queue(text) to fastqueue_admin;

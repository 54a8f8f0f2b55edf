create or replace function fastqueue._queue(id text)
returns fastqueue.queues
language plpgsql
stable
as $$
declare
    v_row fastqueue.queues;
begin
    select * into v_row from fastqueue.queues r where r.id = _queue.id;
    if not found then
        perform fastqueue._not_found('Queue', _queue.id);
    end if;
    return v_row;
end;
$$;

comment on function fastqueue._queue(text) is
'Internal: the queue with this id (every column, internal ones included), or error P0002 "Queue not found".';

revoke execute on function fastqueue._queue(text) from public;

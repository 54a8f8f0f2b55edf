create or replace function fastqueue._queue(id text)
returns fastqueue.queues
language plpgsql
stable
as $$
declare
    v_queue fastqueue.queues;
begin
    select * into v_queue from fastqueue.queues q where q.id = _queue.id;
    if not found then
        raise exception using errcode = 'no_data_found', message = 'Queue not found',
            detail = format('No queue has id %L.', _queue.id);
    end if;
    return v_queue;
end;
$$;

comment on function fastqueue._queue(text) is
'Internal: the queue with this id, or error P0002 "Queue not found".';

revoke execute on function fastqueue._queue(text) from public;

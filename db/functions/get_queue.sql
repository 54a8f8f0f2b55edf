create or replace function fastqueue.get_queue(id text)
returns fastqueue.queues
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select fastqueue._queue(get_queue.id)
$$;

comment on function fastqueue.get_queue(text) is
'Returns the queue with this id.
Errors: P0002 "Queue not found".
Example: select * from fastqueue.get_queue(''all-events'');';

revoke execute on function fastqueue.get_queue(text) from public;
grant execute on function fastqueue.get_queue(text) to fastqueue_admin;

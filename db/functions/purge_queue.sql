create or replace function fastqueue.purge_queue(id text)
returns bigint
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(purge_queue.id);
    v_count bigint;
begin
    with purged as (
        delete from fastqueue.deliveries m where m.queue_id = v_queue.id returning 1
    )
    select count(*) into v_count from purged;
    return v_count;
end;
$$;

comment on function fastqueue.purge_queue(text) is
'Deletes every message of the queue, leased ones included, and returns how many.
Errors: P0002 "Queue not found".
Example: select fastqueue.purge_queue(''all-events'');';

revoke execute on function fastqueue.purge_queue(text) from public;
grant execute on function fastqueue.purge_queue(text) to fastqueue_admin;

create or replace function fastqueue._lock_queue(id text)
returns void
language plpgsql
as $$
begin
    -- As _lock_topic: delete_queue waits for this transaction; one running now is waited for first.
    perform from fastqueue.queues q where q.id = _lock_queue.id for key share;
    if not found then
        perform fastqueue._queue(_lock_queue.id);  -- raises "Queue not found"
    end if;
end;
$$;

comment on function fastqueue._lock_queue(text) is
'Internal: locks the queue with this id against delete_queue until the transaction ends (FOR KEY SHARE), or error P0002 "Queue not found" (also when a delete_queue that was running commits first). For writes that refer to a queue (a dead queue, a move''s destination) before the write whose foreign key would fail with 23503, or where messages, which have no foreign key, would be left under a deleted queue.';

revoke execute on function fastqueue._lock_queue(text) from public;

create or replace function fastqueue._detach_dead_queue()
returns trigger
language plpgsql
as $$
begin
    -- A queue that loses its dead queue loses its delivery limit with it: the two go together.
    update fastqueue.queues q
       set dead_queue_id = null, message_max_deliveries = null, updated_at = now()
     where q.dead_queue_id = old.id
       and q.id <> old.id;
    return old;
end;
$$;

comment on function fastqueue._detach_dead_queue() is
'Internal trigger: before a queue is deleted, the queues that used it as their dead queue lose dead_queue_id and message_max_deliveries.';

-- Not granted to anyone: a trigger does not need EXECUTE to fire. The trigger that calls it,
-- queues_detach_dead_queue, is the table's (migration 0012, db/schema.sql).
revoke execute on function fastqueue._detach_dead_queue() from public;

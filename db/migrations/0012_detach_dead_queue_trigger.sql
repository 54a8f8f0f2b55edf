-- The trigger queues_detach_dead_queue is part of the table's definition, so it lives in a migration
-- (until now db/functions/_detach_dead_queue.sql re-created it on every db-migrate). A trigger needs
-- its function to exist, and migrations run before the function files: the function is created here
-- as it is today; db/functions/_detach_dead_queue.sql stays its owner and replaces it on every migrate.
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
revoke execute on function fastqueue._detach_dead_queue() from public;

create or replace trigger queues_detach_dead_queue
    before delete on fastqueue.queues
    for each row execute function fastqueue._detach_dead_queue();

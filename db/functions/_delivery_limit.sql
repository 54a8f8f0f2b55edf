create or replace function fastqueue._delivery_limit(queue fastqueue.queues)
returns integer
language sql
immutable
as $$
    -- message_max_deliveries binds only a queue with a dead queue to hand the message on to.
    select case when (queue).dead_queue_id is not null then (queue).message_max_deliveries else 2147483647 end
$$;

comment on function fastqueue._delivery_limit(fastqueue.queues) is
'Internal: how many times a message of this queue may be delivered (message_max_deliveries when the queue has a dead queue, otherwise unlimited).';

-- No SECURITY DEFINER or SET clause: either would stop the planner from inlining this into its
-- callers' queries, which already run with their own fixed search_path.
revoke execute on function fastqueue._delivery_limit(fastqueue.queues) from public;

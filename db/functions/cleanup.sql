create or replace function fastqueue.cleanup()
returns fastqueue.cleanup_summary
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_summary fastqueue.cleanup_summary;
    v_queue fastqueue.queues;
    v_moved bigint;
begin
    with expired as (
        delete from fastqueue.deliveries m where m.expired_at <= now() returning 1
    )
    select count(*) into v_summary.expired_messages from expired;

    -- Dead-lettering waits for the last lease to end: a consumer still holding the message may ack it.
    v_summary.dead_lettered_messages := 0;
    for v_queue in select * from fastqueue.queues q where q.dead_queue_id is not null order by q.id loop
        -- null: the dead queue was deleted meanwhile; delete_queue detached this queue from it, so
        -- its messages stay here, with no delivery limit any more, and are delivered again.
        v_moved := fastqueue._move_messages(
            array(select m.id
                    from fastqueue.deliveries m
                   where m.queue_id = v_queue.id
                     and m.scheduled_at <= now()
                     and m.delivery_attempts >= v_queue.message_max_deliveries
                     for update skip locked),
            v_queue.dead_queue_id);
        v_moved := coalesce(v_moved, 0);
        v_summary.dead_lettered_messages := v_summary.dead_lettered_messages + v_moved;
        if v_moved > 0 and v_queue.enable_message_ordering then
            -- A dead-lettered message may have been the head of its ordering key: the next can go.
            perform fastqueue._notify_available(v_queue.id);
        end if;
    end loop;

    -- Deduplication records past their window (publish already ignores them: this only frees space).
    with expired as (
        delete from fastqueue.deduplications d where d.expired_at <= now() returning 1
    )
    select count(*) into v_summary.expired_deduplications from expired;

    -- Watches past their time (_notify_available already ignores them).
    delete from fastqueue.queue_watchers w where w.watched_until <= now();

    -- Messages of a queue that no longer exists: a publish that read the queue before delete_queue()
    -- and committed after it (messages has no foreign key). The queue ids present are found by
    -- stepping through the (queue_id, scheduled_at) index, one probe per queue.
    with recursive present (queue_id) as (
        (select m.queue_id from fastqueue.deliveries m order by m.queue_id limit 1)
        union all
        select (select m.queue_id from fastqueue.deliveries m where m.queue_id > p.queue_id order by m.queue_id limit 1)
          from present p
         where p.queue_id is not null
    )
    delete from fastqueue.deliveries m
     using present p
     where m.queue_id = p.queue_id
       and not exists (select from fastqueue.queues q where q.id = p.queue_id);
    return v_summary;
end;
$$;

comment on function fastqueue.cleanup() is
'Maintenance for every queue, run every minute by pg_cron (or by `fastqueue worker`): deletes expired messages, and moves messages delivered message_max_deliveries times, once their last lease has ended, to the queue''s dead queue (as if newly published there: a new id, so a late consumer of a delivery from before cannot settle it, delivery_attempts reset to 0, the dead queue''s retention and delay), and deletes deduplication records past their topic''s window, queue watches past their time (fastqueue.watch_queue), and messages left behind by a queue deleted while a publish to it was committing. A dead queue deleted while cleanup moves messages into it either waits for cleanup (and is deleted with them) or, if first, leaves them in their queue, which loses its delivery limit with its dead queue. Returns how many messages it deleted and moved, and how many deduplication records it deleted. Correctness never waits for it: consume() already skips such messages.
Example: select * from fastqueue.cleanup();';

revoke execute on function fastqueue.cleanup() from public;
grant execute on function fastqueue.cleanup() to fastqueue_admin;

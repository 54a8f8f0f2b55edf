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
        delete from fastqueue.messages m where m.expired_at <= now() returning 1
    )
    select count(*) into v_summary.expired_messages from expired;

    -- Dead-lettering waits for the last lease to end: a consumer still holding the message may ack it.
    v_summary.dead_lettered_messages := 0;
    for v_queue in select * from fastqueue.queues q where q.dead_queue_id is not null order by q.id loop
        v_moved := fastqueue._move_messages(
            array(select m.id
                    from fastqueue.messages m
                   where m.queue_id = v_queue.id
                     and m.scheduled_at <= now()
                     and m.delivery_attempts >= v_queue.message_max_deliveries
                     for update skip locked),
            v_queue.dead_queue_id);
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
    return v_summary;
end;
$$;

comment on function fastqueue.cleanup() is
'Maintenance for every queue, run every minute by pg_cron (or by `fastqueue worker`): deletes expired messages, and moves messages delivered message_max_deliveries times, once their last lease has ended, to the queue''s dead queue (delivery_attempts reset to 0, the dead queue''s retention and delay), and deletes deduplication records past their topic''s window. Returns how many messages it deleted and moved, and how many deduplication records it deleted. Correctness never waits for it: consume() already skips such messages.
Example: select * from fastqueue.cleanup();';

revoke execute on function fastqueue.cleanup() from public;
grant execute on function fastqueue.cleanup() to fastqueue_admin;

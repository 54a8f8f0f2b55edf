create or replace function fastqueue.watch_queue(queue_id text, watcher text, seconds integer default 30)
returns timestamptz
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(watch_queue.queue_id);
    v_until timestamptz;
begin
    perform fastqueue._require_between('seconds', watch_queue.seconds, int4range(0, 3600, '[]'));
    if watch_queue.watcher is null or char_length(watch_queue.watcher) not between 1 and 128 then
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message('queue_watchers_watcher_length');
    end if;
    if watch_queue.seconds = 0 then
        delete from fastqueue.queue_watchers w
         where w.queue_id = v_queue.id and w.watcher = watch_queue.watcher;
        return null;
    end if;
    -- now() is this transaction's start: call it in a short transaction of its own.
    insert into fastqueue.queue_watchers as w (queue_id, watcher, watched_until)
    values (v_queue.id, watch_queue.watcher, now() + watch_queue.seconds * interval '1 second')
    on conflict on constraint queue_watchers_pkey do update
       set watched_until = excluded.watched_until
    returning w.watched_until into v_until;
    return v_until;
end;
$$;

comment on function fastqueue.watch_queue(text, text, integer) is
'Asks for notifications: until seconds from now (0..3600, default 30), messages that become available on the queue (published, nacked, released, redriven, dead-lettered into it, or freed by an ack on an ordered queue) send NOTIFY fastqueue_available with the queue id as payload, at commit. Queues nobody watches cost no NOTIFY: a NOTIFY makes concurrent commits wait for each other. watcher names the caller (1..128 characters, e.g. a host and process id); calling again moves its time, seconds 0 ends it. Returns when the watch ends (null for 0). A message that becomes available by itself (its delay or lease runs out) sends no NOTIFY: a waiting consumer also looks again from time to time, as the gateway does every second (fastqueue.available_queues). PostgreSQL checks no privilege on LISTEN: any role that may connect to the database hears the ids of watched queues (nothing of their messages); revoke CONNECT from PUBLIC where that matters.
Errors: P0002 "Queue not found"; 22023 when seconds or watcher is out of range.
Example: listen fastqueue_available; select fastqueue.watch_queue(''all-events'', ''worker-7'', 60);';

revoke execute on function fastqueue.watch_queue(text, text, integer) from public;
grant execute on function fastqueue.watch_queue(text, text, integer) to fastqueue_consumer, fastqueue_admin;

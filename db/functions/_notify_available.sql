create or replace function fastqueue._notify_available(queue_id text)
returns void
language plpgsql
as $$
begin
    -- Only while someone watches the queue (fastqueue.watch_queue): a NOTIFY holds a database-wide
    -- lock from its transaction's commit until the commit is on disk, so one in every publish would
    -- put all writers in single file. One channel for every queue, the queue id as payload: a
    -- gateway process needs one LISTEN connection whatever the number of queues. NOTIFY is
    -- transactional, so a rolled-back publish wakes nobody, and repeats within one transaction are
    -- folded into one.
    if exists (select
                 from fastqueue.queue_watchers w
                where w.queue_id = _notify_available.queue_id
                  and w.watched_until > now()) then
        perform pg_notify('fastqueue_available', _notify_available.queue_id);
    end if;
end;
$$;

comment on function fastqueue._notify_available(text) is
'Internal: when someone watches the queue (fastqueue.watch_queue), tells listeners on channel fastqueue_available (payload: the queue id), at commit, that the queue may have messages to lease now. Called wherever messages become available: publish, nack, redrive, lease release, dead-lettering, an ack that frees an ordering key.';

revoke execute on function fastqueue._notify_available(text) from public;

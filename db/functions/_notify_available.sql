create or replace function fastqueue._notify_available(queue_id text)
returns void
language sql
as $$
    -- One channel for every queue, the queue id as payload: a gateway process needs one LISTEN
    -- connection whatever the number of queues its consumers wait on. NOTIFY is transactional, so
    -- a rolled-back publish wakes nobody, and repeats within one transaction are folded into one.
    select pg_notify('fastqueue_available', queue_id)
$$;

comment on function fastqueue._notify_available(text) is
'Internal: tells listeners on channel fastqueue_available (payload: the queue id), at commit, that the queue may have messages to lease now. Called wherever messages become available: publish, nack, redrive, lease release.';

revoke execute on function fastqueue._notify_available(text) from public;

create or replace function fastqueue._notify_topic(topic_id text)
returns void
language plpgsql
as $$
begin
    -- Messages were just stored for this topic's queues: wake the long-polling consumers of those
    -- watched, at commit. A queue whose filters took none of the messages may wake for nothing (it
    -- looks, finds nothing and waits on). While nobody watches any queue, the exists() over the
    -- small table of watches is all this costs.
    if not exists (select from fastqueue.queue_watchers w where w.watched_until > now()) then
        return;
    end if;
    perform fastqueue._notify_available(q.id) from fastqueue.queues q where q.topic_id = _notify_topic.topic_id;
end;
$$;

comment on function fastqueue._notify_topic(text) is
'Internal: after messages were stored for a topic, notifies (fastqueue._notify_available) each of its queues that someone watches.';

revoke execute on function fastqueue._notify_topic(text) from public;

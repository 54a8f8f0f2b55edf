create or replace function fastqueue._lock_topic(id text)
returns void
language plpgsql
as $$
begin
    -- FOR KEY SHARE, as a foreign key's check would take it: delete_topic waits for this transaction,
    -- and one deleting the topic right now is waited for, after which the topic is not found.
    perform from fastqueue.topics t where t.id = _lock_topic.id for key share;
    if not found then
        perform fastqueue._topic(_lock_topic.id);  -- raises "Topic not found"
    end if;
end;
$$;

comment on function fastqueue._lock_topic(text) is
'Internal: locks the topic with this id against delete_topic until the transaction ends (FOR KEY SHARE), or error P0002 "Topic not found" (also when a delete_topic that was running commits first). For writes that refer to a topic from a table without a foreign key to it, or before the write whose foreign key would fail with 23503.';

revoke execute on function fastqueue._lock_topic(text) from public;

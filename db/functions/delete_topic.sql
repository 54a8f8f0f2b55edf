create or replace function fastqueue.delete_topic(id text)
returns fastqueue.topics
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics;
begin
    delete from fastqueue.topics t where t.id = delete_topic.id returning * into v_topic;
    if not found then
        perform fastqueue._topic(delete_topic.id);  -- raises "Topic not found"
    end if;
    return v_topic;
end;
$$;

comment on function fastqueue.delete_topic(text) is
'Deletes a topic and returns it. Its queues stay, detached: their topic_id becomes null and they keep their messages.
Errors: P0002 "Topic not found".
Example: select * from fastqueue.delete_topic(''events'');';

revoke execute on function fastqueue.delete_topic(text) from public;
grant execute on function fastqueue.delete_topic(text) to fastqueue_admin;

create or replace function fastqueue._topic(id text)
returns fastqueue.topics
language plpgsql
stable
as $$
declare
    v_topic fastqueue.topics;
begin
    select * into v_topic from fastqueue.topics t where t.id = _topic.id;
    if not found then
        raise exception using errcode = 'no_data_found', message = 'Topic not found',
            detail = format('No topic has id %L.', _topic.id);
    end if;
    return v_topic;
end;
$$;

comment on function fastqueue._topic(text) is
'Internal: the topic with this id, or error P0002 "Topic not found".';

revoke execute on function fastqueue._topic(text) from public;

create or replace function fastqueue._topic(id text)
returns fastqueue.topics
language plpgsql
stable
as $$
declare
    v_row fastqueue.topics;
begin
    select * into v_row from fastqueue.topics r where r.id = _topic.id;
    if not found then
        perform fastqueue._not_found('Topic', _topic.id);
    end if;
    return v_row;
end;
$$;

comment on function fastqueue._topic(text) is
'Internal: the topic with this id (every column, internal ones included), or error P0002 "Topic not found".';

revoke execute on function fastqueue._topic(text) from public;

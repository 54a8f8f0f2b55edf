create or replace function fastqueue.get_topic(id text)
returns fastqueue.topics
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select fastqueue._topic(get_topic.id)
$$;

comment on function fastqueue.get_topic(text) is
'Returns the topic with this id.
Errors: P0002 "Topic not found".
Example: select * from fastqueue.get_topic(''events'');';

revoke execute on function fastqueue.get_topic(text) from public;
grant execute on function fastqueue.get_topic(text) to fastqueue_admin;

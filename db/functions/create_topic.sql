create or replace function fastqueue.create_topic(id text, deduplication_window_seconds integer default 300)
returns fastqueue.topics
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics;
    v_constraint text;
begin
    insert into fastqueue.topics (id, deduplication_window_seconds)
    values (create_topic.id, create_topic.deduplication_window_seconds)
    returning * into v_topic;
    return v_topic;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This topic already exists',
            detail = format('A topic with id %L exists already.', create_topic.id);
    when not_null_violation then
        raise exception using errcode = 'invalid_parameter_value',
            message = case when create_topic.id is null then 'id is required'
                           else 'deduplication_window_seconds must be between 0 and 86400 (1 day)' end;
    when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message(v_constraint);
end;
$$;

comment on function fastqueue.create_topic(text, integer) is
'Creates a topic: a name that publishers send messages to.
id: 1 to 128 letters, digits, ".", "_" or "-", not made only of dots.
deduplication_window_seconds: 0..86400, default 300 (5 minutes): how long publish remembers a deduplication_id on this topic; 0 turns deduplication off.
Errors: 23505 "This topic already exists"; 22023 when the id or the window breaks its rule.
Example: select * from fastqueue.create_topic(''events''); select * from fastqueue.create_topic(''orders'', deduplication_window_seconds => 3600);';

revoke execute on function fastqueue.create_topic(text, integer) from public;
grant execute on function fastqueue.create_topic(text, integer) to fastqueue_admin;

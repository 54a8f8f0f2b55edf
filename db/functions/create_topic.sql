create or replace function fastqueue.create_topic(id text)
returns fastqueue.topics
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics;
    v_constraint text;
begin
    insert into fastqueue.topics (id) values (create_topic.id)
    returning * into v_topic;
    return v_topic;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This topic already exists',
            detail = format('A topic with id %L exists already.', create_topic.id);
    when not_null_violation then
        raise exception using errcode = 'invalid_parameter_value', message = 'id is required';
    when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message(v_constraint);
end;
$$;

comment on function fastqueue.create_topic(text) is
'Creates a topic: a name that publishers send messages to.
id: 1 to 128 letters, digits, ".", "_" or "-".
Errors: 23505 "This topic already exists"; 22023 when the id breaks the rule.
Example: select * from fastqueue.create_topic(''events'');';

revoke execute on function fastqueue.create_topic(text) from public;
grant execute on function fastqueue.create_topic(text) to fastqueue_admin;

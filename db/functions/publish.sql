create or replace function fastqueue.publish(topic_id text, data jsonb, attributes jsonb default null)
returns setof fastqueue.messages
language plpgsql
as $$
declare
    v_topic fastqueue.topics := fastqueue._topic(publish.topic_id);
    v_attributes jsonb := nullif(publish.attributes, 'null'::jsonb);
begin
    -- Checked here as well as by the table's constraints: a message that reaches no queue must be
    -- refused all the same.
    if publish.data is null or jsonb_typeof(publish.data) <> 'object' then
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message('messages_data_object');
    end if;
    if v_attributes is not null
       and (jsonb_typeof(v_attributes) <> 'object'
            or jsonb_path_exists(v_attributes, 'strict $.* ? (@.type() != "string")')) then
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message('messages_attributes_shape');
    end if;

    return query
        insert into fastqueue.messages (queue_id, data, attributes, expired_at, scheduled_at)
        select q.id,
               publish.data,
               v_attributes,
               now() + q.message_retention_seconds * interval '1 second',
               now() + coalesce(q.delivery_delay_seconds, 0) * interval '1 second'
          from fastqueue.queues q
         where q.topic_id = v_topic.id
           and fastqueue._filters_match(q.message_filters, v_attributes)
         order by q.id
        returning *;
end;
$$;

comment on function fastqueue.publish(text, jsonb, jsonb) is
'Publishes a message to a topic: every queue subscribed to the topic whose message_filters pass the attributes gets its own copy. Returns one row per copy (none when no queue takes it). Runs in the caller''s transaction: nothing is delivered unless it commits.
data: a JSON object. attributes: null or a JSON object of string values, matched by queue filters.
Errors: P0002 "Topic not found"; 22023 when data or attributes has the wrong shape.
Example: select id, queue_id from fastqueue.publish(''events'', ''{"event_name": "event1"}'', ''{"event_name": "event1"}'');';

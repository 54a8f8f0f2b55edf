create or replace function fastqueue.publish(topic_id text, data jsonb, attributes jsonb default null)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics := fastqueue._topic(publish.topic_id);
    v_attributes jsonb := nullif(publish.attributes, 'null'::jsonb);
    v_limit_setting text := nullif(btrim(current_setting('fastqueue.max_message_bytes', true)), '');
    v_limit bigint := 1048576;
    v_size bigint;
    v_message fastqueue.messages;
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

    -- The size rule: data and attributes as JSON text, in bytes, at most the custom setting
    -- fastqueue.max_message_bytes (1 MiB when unset; the gateway sets it on its connections).
    if v_limit_setting is not null then
        if v_limit_setting ~ '^[0-9]{1,18}$' then
            v_limit := v_limit_setting::bigint;
        end if;
        if v_limit_setting !~ '^[0-9]{1,18}$' or v_limit < 1 then
            raise exception using errcode = 'invalid_parameter_value',
                message = 'fastqueue.max_message_bytes must be a whole number of bytes, 1 or more',
                detail = format('fastqueue.max_message_bytes is %L.', v_limit_setting);
        end if;
    end if;
    v_size := octet_length(publish.data::text) + coalesce(octet_length(v_attributes::text), 0);
    if v_size > v_limit then
        raise exception using errcode = 'program_limit_exceeded',
            message = format('Message too large: %s bytes, the limit is %s bytes', v_size, v_limit),
            detail = 'data and attributes are counted as JSON text.',
            hint = 'Send a smaller message; operators raise the limit with the setting fastqueue.max_message_bytes.';
    end if;

    for v_message in
        insert into fastqueue.messages (queue_id, data, attributes, expired_at, scheduled_at)
        select q.id,
               publish.data,
               v_attributes,
               now() + q.message_retention_seconds * interval '1 second',
               now() + coalesce(q.delivery_delay_seconds, 0) * interval '1 second'
          from fastqueue.queues q
         where q.topic_id = v_topic.id
           and fastqueue._filters_match(q.message_filters, v_attributes)
           and fastqueue._filter_matches(q.filter_ast, v_attributes)
         order by q.id
        returning *
    loop
        perform fastqueue._notify_available(v_message.queue_id);  -- wakes long-polling consumers at commit
        return next v_message;
    end loop;
end;
$$;

comment on function fastqueue.publish(text, jsonb, jsonb) is
'Publishes a message to a topic: every queue subscribed to the topic whose message_filters pass the attributes gets its own copy. Returns one row per copy (none when no queue takes it). Runs in the caller''s transaction: nothing is delivered unless it commits.
data: a JSON object. attributes: null or a JSON object of string values, matched by queue filters.
Size: data and attributes together, as JSON text, at most fastqueue.max_message_bytes bytes (a custom setting, 1048576 = 1 MiB when unset; e.g. alter database ... set fastqueue.max_message_bytes = 4194304).
Errors: P0002 "Topic not found"; 22023 when data or attributes has the wrong shape (or fastqueue.max_message_bytes is not a positive integer); 54000 "Message too large: <size> bytes, the limit is <limit> bytes".
Example: select id, queue_id from fastqueue.publish(''events'', ''{"event_name": "event1"}'', ''{"event_name": "event1"}'');';

revoke execute on function fastqueue.publish(text, jsonb, jsonb) from public;
grant execute on function fastqueue.publish(text, jsonb, jsonb) to fastqueue_publisher, fastqueue_admin;

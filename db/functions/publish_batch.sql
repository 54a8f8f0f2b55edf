create or replace function fastqueue.publish_batch(topic_id text, messages jsonb)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics := fastqueue._topic(publish_batch.topic_id);
    v_count integer;
    v_item record;
    v_label text;
    v_field text;
    v_delay jsonb;
    v_message fastqueue.messages;
    v_queue_ids text[] := '{}';
begin
    if publish_batch.messages is null or jsonb_typeof(publish_batch.messages) <> 'array' then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'messages must be a JSON array of 1 to 1000 messages';
    end if;
    v_count := jsonb_array_length(publish_batch.messages);
    if v_count not between 1 and 1000 then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'messages must be a JSON array of 1 to 1000 messages',
            detail = format('It has %s.', v_count);
    end if;

    -- Every message is checked before any is stored, so the first bad one is the one reported;
    -- either way one error rolls the whole batch back.
    for v_item in select e.value, e.ordinality - 1 as position
                    from jsonb_array_elements(publish_batch.messages) with ordinality e loop
        v_label := format('messages[%s]', v_item.position);  -- 0-based, as in the request
        if jsonb_typeof(v_item.value) <> 'object' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_label || ': must be a JSON object with data (and optionally attributes, delay_seconds, deduplication_id, ordering_key)';
        end if;
        if exists (select from jsonb_object_keys(v_item.value) k
                    where k not in ('data', 'attributes', 'delay_seconds', 'deduplication_id', 'ordering_key')) then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_label || ': unknown field; a message has data, attributes, delay_seconds, deduplication_id and ordering_key',
                detail = format('Fields given: %s.', (select string_agg(k, ', ') from jsonb_object_keys(v_item.value) k));
        end if;
        v_delay := nullif(v_item.value -> 'delay_seconds', 'null'::jsonb);
        if v_delay is not null and (jsonb_typeof(v_delay) <> 'number' or v_delay::text::numeric not between 0 and 900
                                    or v_delay::text::numeric <> trunc(v_delay::text::numeric)) then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_label || ': delay_seconds must be null or between 0 and 900',
                detail = format('delay_seconds was %s.', v_delay);
        end if;
        foreach v_field in array array['deduplication_id', 'ordering_key'] loop
            if jsonb_typeof(v_item.value -> v_field) not in ('string', 'null') then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('%s: %s must be null or a string of 1 to 128 characters', v_label, v_field);
            end if;
        end loop;
        perform fastqueue._check_message(
            v_item.value -> 'data',
            nullif(v_item.value -> 'attributes', 'null'::jsonb),
            (v_delay::text::numeric)::integer,
            v_item.value ->> 'deduplication_id',
            v_item.value ->> 'ordering_key',
            v_label);
    end loop;

    -- Stored in input order, each message's copies in queue id order: the answer's order.
    for v_item in select e.value from jsonb_array_elements(publish_batch.messages) with ordinality e
                   order by e.ordinality loop
        for v_message in
            select * from fastqueue._publish_one(
                v_topic,
                v_item.value -> 'data',
                nullif(v_item.value -> 'attributes', 'null'::jsonb),
                (nullif(v_item.value -> 'delay_seconds', 'null'::jsonb)::text::numeric)::integer,
                v_item.value ->> 'deduplication_id',
                v_item.value ->> 'ordering_key')
        loop
            if not v_message.queue_id = any (v_queue_ids) then
                v_queue_ids := v_queue_ids || v_message.queue_id;
            end if;
            return next v_message;
        end loop;
    end loop;

    perform fastqueue._notify_available(q) from unnest(v_queue_ids) q;  -- wakes long-polling consumers at commit
end;
$$;

comment on function fastqueue.publish_batch(text, jsonb) is
'Publishes 1 to 1000 messages to a topic in one call and one transaction: all or nothing. messages: a JSON array of {"data": {...}, "attributes": {...}, "delay_seconds": n, "deduplication_id": "...", "ordering_key": "..."} (only data is required), each with the rules of publish(). Returns every copy stored, message by message in input order, each message''s copies in queue id order; a duplicate (deduplication_id seen within the topic''s window, also earlier in the same batch) contributes the first publish''s copies that still exist. Messages that share an ordering_key keep their order in the batch.
Errors: P0002 "Topic not found"; 22023 when messages is not an array of 1 to 1000, or "messages[i]: <what is wrong>" naming the first bad message by its 0-based position; 54000 "messages[i]: Message too large: ...". Nothing is stored when any message is refused.
Example: select id, queue_id from fastqueue.publish_batch(''events'', ''[{"data": {"n": 1}}, {"data": {"n": 2}, "ordering_key": "order-42"}]'');';

revoke execute on function fastqueue.publish_batch(text, jsonb) from public;
grant execute on function fastqueue.publish_batch(text, jsonb) to fastqueue_publisher, fastqueue_admin;

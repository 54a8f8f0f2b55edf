create or replace function fastqueue.publish_batch(topic_id text, messages jsonb)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics := fastqueue._topic(publish_batch.topic_id);
    v_batch_size int4range := fastqueue._allowed('batch_size');
    v_limit bigint := fastqueue._max_message_bytes();
    v_count integer;
    v_deduplicated boolean;
    v_bad bigint;
    v_item jsonb;
begin
    if publish_batch.messages is null or jsonb_typeof(publish_batch.messages) <> 'array' then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('messages must be a JSON array of %s to %s messages',
                             lower(v_batch_size), upper(v_batch_size) - 1);
    end if;
    v_count := jsonb_array_length(publish_batch.messages);
    if not v_count <@ v_batch_size then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('messages must be a JSON array of %s to %s messages',
                             lower(v_batch_size), upper(v_batch_size) - 1),
            detail = format('It has %s.', v_count);
    end if;

    -- Every message is checked before any is stored, all in one statement: the first that breaks
    -- a rule is named by its 0-based position, as in the request. One error rolls the batch back.
    select bool_or(nullif(e.value -> 'deduplication_id', 'null'::jsonb) is not null),
           min(e.ordinality) filter (where fastqueue._batch_message_fault(e.value, v_limit) is not null)
      into v_deduplicated, v_bad
      from jsonb_array_elements(publish_batch.messages) with ordinality e;
    if v_bad is not null then
        v_item := publish_batch.messages -> (v_bad::integer - 1);
        perform fastqueue._raise_message_fault(fastqueue._batch_message_fault(v_item, v_limit), v_item,
                                               format('messages[%s]', v_bad - 1));
    end if;

    if v_deduplicated and v_topic.deduplication_window_seconds > 0 then
        -- Each message on its own, in input order: a duplicate within the batch meets the first.
        for v_item in select e.value from jsonb_array_elements(publish_batch.messages) with ordinality e
                       order by e.ordinality loop
            return query select * from fastqueue._publish_one(v_topic, v_item);
        end loop;
        return;
    end if;

    -- All in one statement (_fan_out): returned in input order, each message's copies in queue id order.
    return query select * from fastqueue._fan_out(v_topic.id, publish_batch.messages);
end;
$$;

comment on function fastqueue.publish_batch(text, jsonb) is
'Publishes 1 to 1000 messages to a topic in one call and one transaction: all or nothing. messages: a JSON array of {"data": {...}, "attributes": {...}, "delay_seconds": n, "deduplication_id": "...", "ordering_key": "..."} (only data is required), each with the rules of publish(). Returns every copy stored, message by message in input order, each message''s copies in queue id order; a duplicate (deduplication_id seen within the topic''s window, also earlier in the same batch) contributes the first publish''s copies that still exist when it is the same message, as in publish(), and refuses the batch with FQDUP when it is another. Messages that share an ordering_key keep their order in the batch.
Errors: P0002 "Topic not found"; 22023 when messages is not an array of 1 to 1000, or "messages[i]: <what is wrong>" naming the first bad message by its 0-based position; 54000 "messages[i]: Message too large: ..."; FQDUP "deduplication_id "<id>" was already used on this topic for a different message (...)". Nothing is stored when any message is refused.
Example: select id, queue_id from fastqueue.publish_batch(''events'', ''[{"data": {"n": 1}}, {"data": {"n": 2}, "ordering_key": "order-42"}]'');';

revoke execute on function fastqueue.publish_batch(text, jsonb) from public;
grant execute on function fastqueue.publish_batch(text, jsonb) to fastqueue_publisher, fastqueue_admin;

create or replace function fastqueue.publish(
    topic_id text,
    data jsonb,
    attributes jsonb default null,
    delay_seconds integer default null,
    deduplication_id text default null,
    ordering_key text default null
)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_attributes jsonb := nullif(publish.attributes, 'null'::jsonb);
    v_message jsonb;
    v_fault text := fastqueue._message_fault(publish.data, v_attributes, publish.delay_seconds,
                                             publish.deduplication_id, publish.ordering_key,
                                             fastqueue._max_message_bytes());
    v_topic fastqueue.topics;
begin
    -- The rules are checked for every writer here (the tables have no CHECK on data and
    -- attributes: a constraint is prepared anew by every statement that writes a row). A message
    -- that reaches no queue is refused all the same.
    v_message := jsonb_build_object('data', publish.data, 'attributes', v_attributes,
                                    'delay_seconds', publish.delay_seconds,
                                    'deduplication_id', publish.deduplication_id,
                                    'ordering_key', publish.ordering_key);
    if v_fault is not null then
        perform fastqueue._raise_message_fault(v_fault, v_message);
    end if;
    if publish.deduplication_id is not null then
        v_topic := fastqueue._topic(publish.topic_id);
        if v_topic.deduplication_window_seconds > 0 then
            return query select * from fastqueue._publish_one(v_topic, v_message);
            return;
        end if;
    end if;

    -- The topic is looked up only when no queue took the message: "Topic not found" when it
    -- does not exist (the hot path does not pay for the lookup).
    return query select * from fastqueue._fan_out(publish.topic_id, jsonb_build_array(v_message));
    if not found then
        perform fastqueue._topic(publish.topic_id);
    end if;
end;
$$;

comment on function fastqueue.publish(text, jsonb, jsonb, integer, text, text) is
'Publishes a message to a topic: every queue subscribed to the topic whose message_filters and filter expression both pass the attributes gets its own copy (its own message id and delivery state; the payload is stored once). Returns one row per copy (none when no queue takes it). Runs in the caller''s transaction: nothing is delivered unless it commits.
data: a JSON object, nesting at most 100 levels. attributes: null or a JSON object of string values, matched by queue filters.
delay_seconds: null or 0..900; when given, the copies become available after it instead of their queue''s delivery_delay_seconds.
deduplication_id: null or 1..128 characters. A second publish with the same id to the same topic within the topic''s deduplication_window_seconds (300 by default) stores nothing. When it is the same message (data, attributes and ordering_key equal as JSON; its delay_seconds does not count) it returns the first publish''s copies that still exist (same ids, as they are now: acked copies are gone, and a copy dead-lettered or redriven since has a new id and is not among them); another message gets error FQDUP, so a publisher who reuses someone else''s id learns nothing of their message. Concurrent duplicates wait for the first and then get its copies (or FQDUP).
ordering_key: null or 1..128 characters. A queue with enable_message_ordering delivers the messages that share a key one at a time, in publish order (within one transaction too); other keys and unkeyed messages are not held up.
Size: data and attributes together, as JSON text, at most fastqueue.max_message_bytes bytes (a custom setting, 1048576 = 1 MiB when unset; e.g. alter database ... set fastqueue.max_message_bytes = 4194304).
Errors: P0002 "Topic not found"; 22023 when data or attributes has the wrong shape, or delay_seconds, deduplication_id or ordering_key is out of range (or fastqueue.max_message_bytes is not a positive integer); 54000 "Message too large: <size> bytes, the limit is <limit> bytes"; FQDUP "deduplication_id "<id>" was already used on this topic for a different message (...)".
Example: select id, queue_id from fastqueue.publish(''events'', ''{"event_name": "event1"}'', ''{"event_name": "event1"}'', deduplication_id => ''order-42-created'', ordering_key => ''order-42'');';

revoke execute on function fastqueue.publish(text, jsonb, jsonb, integer, text, text) from public;
grant execute on function fastqueue.publish(text, jsonb, jsonb, integer, text, text) to fastqueue_publisher, fastqueue_admin;

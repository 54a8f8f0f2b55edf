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
    v_topic fastqueue.topics;
    v_notified boolean;
begin
    if not fastqueue._check_message(publish.data, v_attributes, publish.delay_seconds,
                                    publish.deduplication_id, publish.ordering_key) then
        return;  -- not reached: _check_message raises when a rule is broken
    end if;
    if publish.deduplication_id is not null then
        v_topic := fastqueue._topic(publish.topic_id);
        if v_topic.deduplication_window_seconds > 0 then
            -- Stores through this function again, without the deduplication_id, when it is new.
            return query
                select * from fastqueue._publish_one(v_topic, publish.data, v_attributes, publish.delay_seconds,
                                                     publish.deduplication_id, publish.ordering_key);
            return;
        end if;
    end if;

    -- The hot path is this one statement: the queues of the topic whose filters pass the
    -- attributes, one body for the message if any queue takes it (the payload, stored once) and one
    -- delivery per queue, in queue id order, in the current slot. Keyed messages take one
    -- ordering_sequence, shared by their deliveries. publish_batch() has its twin for many messages
    -- in one statement; db/tests/publish.sql and publish_batch.sql hold both to the same results.
    return query
        with taking as (
            select q.id, q.message_retention_seconds, q.delivery_delay_seconds
              from fastqueue.queues q
             where q.topic_id = publish.topic_id
               and (q.message_filters is null or fastqueue._filters_match(q.message_filters, v_attributes))
               and (q.filter_ast is null or fastqueue._filter_matches(q.filter_ast, v_attributes))
        ),
        body as (
            insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at,
                                                  ordering_key, ordering_sequence)
            select s.last_value, fastqueue._new_message_id(), publish.data, v_attributes,
                   octet_length(publish.data::text) + coalesce(octet_length(v_attributes::text), 0), now(),
                   publish.ordering_key,
                   -- Publish order per key, also between messages of one transaction (they share now()).
                   case when publish.ordering_key is not null
                        then nextval('fastqueue.messages_ordering_sequence'::regclass) end
              from fastqueue.store_slot s
             where exists (select from taking)
            returning slot, id, created_at, ordering_sequence
        ),
        delivered as (
            insert into fastqueue.deliveries (slot, id, body_id, queue_id, scheduled_at, expired_at, created_at,
                                              updated_at, ordering_key, ordering_sequence)
            select b.slot, fastqueue._new_message_id(), b.id, t.id,
                   -- The message's own delay, when given (0 included), overrides its queue's.
                   now() + coalesce(publish.delay_seconds, t.delivery_delay_seconds, 0) * interval '1 second',
                   now() + t.message_retention_seconds * interval '1 second',
                   b.created_at, now(), publish.ordering_key, b.ordering_sequence
              from body b, taking t
            returning *
        )
        select d.id, d.queue_id, publish.data, v_attributes, d.delivery_attempts, d.expired_at, d.scheduled_at,
               d.created_at, d.updated_at, d.ordering_key, d.ordering_sequence
          from delivered d
         order by d.queue_id;
    if found then
        v_notified := fastqueue._notify_topic(publish.topic_id);  -- wakes long-polling consumers at commit
    else
        v_topic := fastqueue._topic(publish.topic_id);  -- no copy: "Topic not found" when it does not exist
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

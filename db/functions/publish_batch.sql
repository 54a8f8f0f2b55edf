create or replace function fastqueue.publish_batch(topic_id text, messages jsonb)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic fastqueue.topics := fastqueue._topic(publish_batch.topic_id);
    v_count integer;
    v_limit bigint;
    v_all_valid boolean;
    v_deduplicated boolean;
    v_item record;
    v_notified boolean;
    v_slot smallint := (select s.last_value from fastqueue.store_slot s);  -- where this batch is stored
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

    -- Every message is checked before any is stored. First all at once, in one statement; only
    -- when some message breaks a rule does the per-message check run, to name the first bad one
    -- (by its 0-based position, as in the request). Either way one error rolls the batch back.
    v_limit := fastqueue._max_message_bytes();
    select bool_and(coalesce(fastqueue._batch_message_valid(e.value, v_limit), false)),
           bool_or(nullif(e.value -> 'deduplication_id', 'null'::jsonb) is not null)
      into v_all_valid, v_deduplicated
      from jsonb_array_elements(publish_batch.messages) e;
    if not v_all_valid then
        for v_item in select e.value, e.ordinality - 1 as position
                        from jsonb_array_elements(publish_batch.messages) with ordinality e loop
            perform fastqueue._check_batch_message(v_item.value, format('messages[%s]', v_item.position));
        end loop;
    end if;

    if v_deduplicated and v_topic.deduplication_window_seconds > 0 then
        -- Each message on its own, in input order: a duplicate within the batch meets the first.
        for v_item in select e.value from jsonb_array_elements(publish_batch.messages) with ordinality e
                       order by e.ordinality loop
            return query
                select * from fastqueue._publish_one(
                    v_topic,
                    v_item.value -> 'data',
                    nullif(v_item.value -> 'attributes', 'null'::jsonb),
                    (nullif(v_item.value -> 'delay_seconds', 'null'::jsonb)::text::numeric)::integer,
                    v_item.value ->> 'deduplication_id',
                    v_item.value ->> 'ordering_key');
        end loop;
        return;
    end if;

    -- All in one statement: each message to every queue of the topic whose filters pass its
    -- attributes, one body per message that some queue takes (in input order, numbered per ordering
    -- key in that order) and one delivery per queue, returned in input order, each message's copies
    -- in queue id order (the twin of publish()'s statement for one message; db/tests/publish.sql
    -- and publish_batch.sql hold both to the same results).
    return query
        with message as (
            select e.value -> 'data' as data,
                   nullif(e.value -> 'attributes', 'null'::jsonb) as attributes,
                   (nullif(e.value -> 'delay_seconds', 'null'::jsonb)::text::numeric)::integer as delay_seconds,
                   e.value ->> 'ordering_key' as ordering_key,
                   e.ordinality as position,
                   fastqueue._new_message_id() as body_id
              from jsonb_array_elements(publish_batch.messages) with ordinality e
        ),
        taken as (
            select m.position, m.body_id, q.id as queue_id,
                   -- The message's own delay, when given (0 included), overrides its queue's.
                   now() + coalesce(m.delay_seconds, q.delivery_delay_seconds, 0) * interval '1 second' as scheduled_at,
                   now() + q.message_retention_seconds * interval '1 second' as expired_at
              from message m
              join fastqueue.queues q on q.topic_id = v_topic.id
             where (q.message_filters is null or fastqueue._filters_match(q.message_filters, m.attributes))
               and (q.filter_ast is null or fastqueue._filter_matches(q.filter_ast, m.attributes))
        ),
        body as (
            insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at,
                                                  ordering_key, ordering_sequence)
            select v_slot, t.body_id, t.data, t.attributes,
                   octet_length(t.data::text) + coalesce(octet_length(t.attributes::text), 0), now(),
                   t.ordering_key,
                   -- Publish order per key, also between messages of one transaction (they share
                   -- now()): numbered here, over the messages already in input order.
                   case when t.ordering_key is not null
                        then nextval('fastqueue.messages_ordering_sequence'::regclass) end
              from (select m.*
                      from message m
                     where exists (select from taken c where c.position = m.position)
                     order by m.position
                    offset 0) t  -- a fence: the numbering runs over the sorted rows
            returning id, created_at, ordering_key, ordering_sequence
        ),
        delivered as (
            insert into fastqueue.deliveries (slot, id, body_id, queue_id, scheduled_at, expired_at, created_at,
                                              updated_at, ordering_key, ordering_sequence)
            select v_slot, fastqueue._new_message_id(), b.id, c.queue_id, c.scheduled_at, c.expired_at,
                   b.created_at, now(), b.ordering_key, b.ordering_sequence
              from taken c
              join body b on b.id = c.body_id
            returning *
        )
        select d.id, d.queue_id, m.data, m.attributes, d.delivery_attempts, d.expired_at, d.scheduled_at,
               d.created_at, d.updated_at, d.ordering_key, d.ordering_sequence
          from delivered d
          join message m on m.body_id = d.body_id
         order by m.position, d.queue_id;
    if found then
        v_notified := fastqueue._notify_topic(v_topic.id);  -- wakes long-polling consumers at commit
    end if;
end;
$$;

comment on function fastqueue.publish_batch(text, jsonb) is
'Publishes 1 to 1000 messages to a topic in one call and one transaction: all or nothing. messages: a JSON array of {"data": {...}, "attributes": {...}, "delay_seconds": n, "deduplication_id": "...", "ordering_key": "..."} (only data is required), each with the rules of publish(). Returns every copy stored, message by message in input order, each message''s copies in queue id order; a duplicate (deduplication_id seen within the topic''s window, also earlier in the same batch) contributes the first publish''s copies that still exist when it is the same message, as in publish(), and refuses the batch with FQDUP when it is another. Messages that share an ordering_key keep their order in the batch.
Errors: P0002 "Topic not found"; 22023 when messages is not an array of 1 to 1000, or "messages[i]: <what is wrong>" naming the first bad message by its 0-based position; 54000 "messages[i]: Message too large: ..."; FQDUP "deduplication_id "<id>" was already used on this topic for a different message (...)". Nothing is stored when any message is refused.
Example: select id, queue_id from fastqueue.publish_batch(''events'', ''[{"data": {"n": 1}}, {"data": {"n": 2}, "ordering_key": "order-42"}]'');';

revoke execute on function fastqueue.publish_batch(text, jsonb) from public;
grant execute on function fastqueue.publish_batch(text, jsonb) to fastqueue_publisher, fastqueue_admin;

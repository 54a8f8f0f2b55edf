create or replace function fastqueue._fan_out(topic_id text, messages jsonb)
returns setof fastqueue.messages
language plpgsql
as $$
begin
    -- The one statement that stores messages for publish and publish_batch (messages: a JSON array
    -- of {"data", "attributes", "delay_seconds", "ordering_key"}, already checked by
    -- _batch_message_fault's or _message_fault's rules; deduplication is _publish_one's). Each
    -- message goes to every queue of the topic whose filters pass its attributes: one body per
    -- message that some queue takes (the payload, stored once; in input order, numbered per
    -- ordering key in that order) and one delivery per queue, returned in input order, each
    -- message's copies in queue id order.
    return query
        with message as (
            select e.value -> 'data' as data,
                   nullif(e.value -> 'attributes', 'null'::jsonb) as attributes,
                   (nullif(e.value -> 'delay_seconds', 'null'::jsonb)::text::numeric)::integer as delay_seconds,
                   e.value ->> 'ordering_key' as ordering_key,
                   e.ordinality as position,
                   fastqueue._new_message_id() as body_id
              from jsonb_array_elements(_fan_out.messages) with ordinality e
        ),
        taken as (
            select m.position, m.body_id, q.id as queue_id,
                   -- The message's own delay, when given (0 included), overrides its queue's.
                   now() + coalesce(m.delay_seconds, q.delivery_delay_seconds, 0) * interval '1 second' as scheduled_at,
                   now() + q.message_retention_seconds * interval '1 second' as expired_at
              from message m
              join fastqueue.queues q on q.topic_id = _fan_out.topic_id
             where (q.message_filters is null or fastqueue._attributes_match_filters(m.attributes, q.message_filters))
               and (q.filter_ast is null or fastqueue._expression_matches(q.filter_ast, m.attributes))
        ),
        body as (
            insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at,
                                                  ordering_key, ordering_sequence)
            select s.last_value, t.body_id, t.data, t.attributes,
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
                    offset 0) t,  -- a fence: the numbering runs over the sorted rows
                   fastqueue.store_slot s  -- the current slot
            returning slot, id, created_at, ordering_key, ordering_sequence
        ),
        delivered as (
            insert into fastqueue.deliveries (slot, id, body_id, queue_id, scheduled_at, expired_at, created_at,
                                              updated_at, ordering_key, ordering_sequence)
            select b.slot, fastqueue._new_message_id(), b.id, c.queue_id, c.scheduled_at, c.expired_at,
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
        perform fastqueue._notify_topic(_fan_out.topic_id);  -- wakes long-polling consumers at commit
    end if;
end;
$$;

comment on function fastqueue._fan_out(text, jsonb) is
'Internal: stores messages (a JSON array of {"data", "attributes", "delay_seconds", "ordering_key"}, already checked) for every queue of topic_id whose message_filters and filter expression pass each one''s attributes: one body per message some queue takes, one delivery per queue, ordering_sequence numbered in input order. Returns the copies in input order, each message''s in queue id order, and notifies the watched queues. publish, publish_batch and _publish_one store through it; it checks no rule and does not look the topic up (no queue: no row).';

revoke execute on function fastqueue._fan_out(text, jsonb) from public;

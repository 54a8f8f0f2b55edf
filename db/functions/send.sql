create or replace function fastqueue.send(
    queue_id text,
    data jsonb,
    attributes jsonb default null,
    delay_seconds integer default null
)
returns fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_attributes jsonb := nullif(send.attributes, 'null'::jsonb);
    v_queue fastqueue.queues := fastqueue._queue(send.queue_id);
    v_fault text := fastqueue._message_fault(send.data, v_attributes, send.delay_seconds, null, null,
                                             fastqueue._max_message_bytes());
    v_message fastqueue.messages;
begin
    -- The same rules as publish, checked by the same function (no deduplication_id, no ordering_key).
    if v_fault is not null then
        perform fastqueue._raise_message_fault(v_fault, jsonb_build_object('data', send.data, 'attributes', v_attributes,
                                                                            'delay_seconds', send.delay_seconds));
    end if;
    -- publish's two inserts for one queue, without its topic's filters (the sender chose the
    -- queue): the body in the current slot, then its one delivery (docs/storage.md).
    with body as (
        insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at)
        select s.last_value, fastqueue._new_message_id(), send.data, v_attributes,
               octet_length(send.data::text) + coalesce(octet_length(v_attributes::text), 0), now()
          from fastqueue.store_slot s
        returning slot, id, created_at
    ),
    delivered as (
        insert into fastqueue.deliveries (slot, id, body_id, queue_id, scheduled_at, expired_at, created_at,
                                          updated_at)
        select b.slot, fastqueue._new_message_id(), b.id, v_queue.id,
               now() + coalesce(send.delay_seconds, v_queue.delivery_delay_seconds, 0) * interval '1 second',
               now() + v_queue.message_retention_seconds * interval '1 second',
               b.created_at, now()
          from body b
        returning *
    )
    select d.id, d.queue_id, send.data, v_attributes, d.delivery_attempts, d.expired_at, d.scheduled_at,
           d.created_at, d.updated_at, d.ordering_key, d.ordering_sequence
      into v_message
      from delivered d;
    perform fastqueue._notify_available(v_queue.id);  -- wakes long-polling consumers at commit
    return v_message;
end;
$$;

comment on function fastqueue.send(text, jsonb, jsonb, integer) is
'Sends a message to one queue directly, without a topic (as SQS''s SendMessage and pgmq''s send do): the queue gets the message whatever its topic and filters. Returns the stored message. Runs in the caller''s transaction: nothing is delivered unless it commits.
data, attributes, delay_seconds and the size limit: the same rules as publish (data a JSON object nesting at most 100 levels; attributes null or an object of strings; delay_seconds null or 0..900, overriding the queue''s delivery_delay_seconds; data and attributes together at most fastqueue.max_message_bytes bytes as JSON text). Messages sent this way have no deduplication_id and no ordering_key.
Errors: P0002 "Queue not found"; 22023 when data or attributes has the wrong shape or delay_seconds is out of range; 54000 "Message too large: <size> bytes, the limit is <limit> bytes".
Example: select id from fastqueue.send(''all-events'', ''{"order_id": 42}'', ''{"event_name": "order_created"}'', delay_seconds => 10);';

revoke execute on function fastqueue.send(text, jsonb, jsonb, integer) from public;
grant execute on function fastqueue.send(text, jsonb, jsonb, integer) to fastqueue_publisher, fastqueue_admin;

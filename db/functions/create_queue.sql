create or replace function fastqueue.create_queue(
    id text,
    topic_id text,
    ack_deadline_seconds integer,
    message_retention_seconds integer,
    message_filters jsonb default null,
    dead_queue_id text default null,
    message_max_deliveries integer default null,
    delivery_delay_seconds integer default null,
    retry_min_backoff_seconds integer default null,
    retry_max_backoff_seconds integer default null,
    enable_message_ordering boolean default false,
    filter text default null,
    push_endpoint text default null,
    push_format text default 'wrapped',
    push_secret text default null,
    push_max_in_flight integer default 16
)
returns fastqueue.queues
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues;
    v_constraint text;
    v_column text;
begin
    if create_queue.topic_id is not null then
        -- Locked, not only read: a delete_topic committing before the insert would fail it with 23503.
        perform fastqueue._lock_topic(create_queue.topic_id);
    end if;
    if create_queue.dead_queue_id is not null and create_queue.dead_queue_id is distinct from create_queue.id then
        perform fastqueue._lock_queue(create_queue.dead_queue_id);
    end if;

    perform fastqueue._check_push_endpoint(create_queue.push_endpoint);
    insert into fastqueue.queues (
        id, topic_id, ack_deadline_seconds, message_retention_seconds, message_filters,
        dead_queue_id, message_max_deliveries, delivery_delay_seconds,
        retry_min_backoff_seconds, retry_max_backoff_seconds, enable_message_ordering, filter, filter_ast,
        push_endpoint, push_format, push_max_in_flight)
    values (
        create_queue.id, create_queue.topic_id, create_queue.ack_deadline_seconds,
        create_queue.message_retention_seconds, nullif(create_queue.message_filters, 'null'::jsonb),
        create_queue.dead_queue_id, create_queue.message_max_deliveries, create_queue.delivery_delay_seconds,
        create_queue.retry_min_backoff_seconds, create_queue.retry_max_backoff_seconds,
        coalesce(create_queue.enable_message_ordering, false),
        create_queue.filter, fastqueue._parse_filter(create_queue.filter),
        create_queue.push_endpoint, coalesce(create_queue.push_format, 'wrapped'),
        coalesce(create_queue.push_max_in_flight, 16))
    returning * into v_queue;
    if create_queue.push_secret is not null then
        update fastqueue.queues q
           set push_secret_set = fastqueue._set_push_secret(v_queue.id, create_queue.push_secret)
         where q.id = v_queue.id
        returning * into v_queue;
    end if;
    -- A publish that read a deleted queue of this id and committed after its delete may have left
    -- messages behind (messages has no foreign key): they are not this queue's.
    delete from fastqueue.deliveries m where m.queue_id = v_queue.id;
    return v_queue;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This queue already exists',
            detail = format('A queue with id %L exists already.', create_queue.id);
    when not_null_violation then
        get stacked diagnostics v_column = column_name;
        raise exception using errcode = 'invalid_parameter_value', message = format('%s is required', v_column);
    when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message(v_constraint);
end;
$$;

comment on function fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) is
'Creates a queue, subscribed to topic_id (or to nothing when topic_id is null).
id: 1 to 128 letters, digits, ".", "_" or "-", not made only of dots.
ack_deadline_seconds 1..600: how long a consumed message stays leased before it is delivered again.
message_retention_seconds 600..1209600: how long a message lives before it expires undelivered.
message_filters: null, or {"attribute": ["allowed", "values"], ...}; a message is copied here only if it has every key with an allowed value.
dead_queue_id with message_max_deliveries 1..1000 (together or not at all): after that many deliveries an unacked message moves to the dead queue.
delivery_delay_seconds 1..900 or null: new messages become available only after this delay.
retry_min_backoff_seconds with retry_max_backoff_seconds, 0..600 each, min <= max (together or not at all): a nack without an explicit delay makes the message wait min(max, min * 2^(delivery_attempts - 1)) seconds.
enable_message_ordering: messages that share an ordering_key are delivered one at a time, in publish order.
filter: null, or a Pub/Sub-style expression over attributes (at most 256 characters), parsed once here; a message must pass it and message_filters.
push_endpoint: null for a pull queue, or an http:// or https:// URL that `fastqueue worker` POSTs each message to (docs/push.md); a host that is literally loopback, private, link-local or multicast (or localhost) is refused unless the setting fastqueue.push_allow_private_networks is true. push_format: wrapped (default) or unwrapped. push_secret: 16..256 characters that sign each push request (fastqueue-signature); write-only, never returned: the queue shows push_secret_set; on update null keeps it and '''' removes it. push_max_in_flight 1..1000 (default 16): the most concurrent push requests.
Errors: P0002 "Topic not found" / "Queue not found" (dead queue); 23505 "This queue already exists"; 22023 when a value breaks a rule (the message says which and the allowed range) or the filter does not parse (the message gives the position).
Example: select * from fastqueue.create_queue(''all-events'', ''events'', ack_deadline_seconds => 30, message_retention_seconds => 1209600);';

revoke execute on function fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) from public;
grant execute on function fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) to fastqueue_admin;

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
returns fastqueue.queue_settings
language sql
security definer
set search_path = pg_catalog, pg_temp
as $$
    select fastqueue._save_queue(true, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
$$;

comment on function fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) is
'Creates a queue, subscribed to topic_id (or to nothing when topic_id is null), and returns it as a caller sees it (fastqueue.queue_settings: every setting, push_secret_set but not the secret, not the internal filter_ast).
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

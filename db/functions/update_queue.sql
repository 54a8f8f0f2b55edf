create or replace function fastqueue.update_queue(
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
    select fastqueue._save_queue(false, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
$$;

comment on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) is
'Replaces every setting of a queue (same parameters and rules as create_queue); created_at is kept, updated_at set. push_secret is the exception: null keeps the secret set before, '''' removes it. Messages already queued keep their expiry and schedule.
Errors: P0002 "Queue not found" (the queue or its dead queue) / "Topic not found"; 22023 when a value breaks a rule or the filter does not parse.
Example: select * from fastqueue.update_queue(''all-events'', ''events'', ack_deadline_seconds => 60, message_retention_seconds => 86400);';

revoke execute on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) from public;
grant execute on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) to fastqueue_admin;

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
    perform fastqueue._queue(update_queue.id);
    if update_queue.topic_id is not null then
        -- Locked, not only read: a delete_topic committing before the insert would fail it with 23503.
        perform fastqueue._lock_topic(update_queue.topic_id);
    end if;
    if update_queue.dead_queue_id is not null and update_queue.dead_queue_id is distinct from update_queue.id then
        perform fastqueue._lock_queue(update_queue.dead_queue_id);
    end if;

    perform fastqueue._check_push_endpoint(update_queue.push_endpoint);
    update fastqueue.queues q
       set topic_id = update_queue.topic_id,
           ack_deadline_seconds = update_queue.ack_deadline_seconds,
           message_retention_seconds = update_queue.message_retention_seconds,
           message_filters = nullif(update_queue.message_filters, 'null'::jsonb),
           dead_queue_id = update_queue.dead_queue_id,
           message_max_deliveries = update_queue.message_max_deliveries,
           delivery_delay_seconds = update_queue.delivery_delay_seconds,
           retry_min_backoff_seconds = update_queue.retry_min_backoff_seconds,
           retry_max_backoff_seconds = update_queue.retry_max_backoff_seconds,
           enable_message_ordering = coalesce(update_queue.enable_message_ordering, false),
           filter = update_queue.filter,
           filter_ast = fastqueue._parse_filter(update_queue.filter),
           push_endpoint = update_queue.push_endpoint,
           push_format = coalesce(update_queue.push_format, 'wrapped'),
           push_max_in_flight = coalesce(update_queue.push_max_in_flight, 16),
           push_secret_set = fastqueue._set_push_secret(update_queue.id, update_queue.push_secret),
           updated_at = now()
     where q.id = update_queue.id
    returning * into v_queue;
    if not found then
        perform fastqueue._queue(update_queue.id);  -- deleted meanwhile: "Queue not found"
    end if;
    return v_queue;
exception
    when not_null_violation then
        get stacked diagnostics v_column = column_name;
        raise exception using errcode = 'invalid_parameter_value', message = format('%s is required', v_column);
    when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message(v_constraint);
end;
$$;

comment on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) is
'Replaces every setting of a queue (same parameters and rules as create_queue); created_at is kept, updated_at set. push_secret is the exception: null keeps the secret set before, '''' removes it. Messages already queued keep their expiry and schedule.
Errors: P0002 "Queue not found" (the queue or its dead queue) / "Topic not found"; 22023 when a value breaks a rule or the filter does not parse.
Example: select * from fastqueue.update_queue(''all-events'', ''events'', ack_deadline_seconds => 60, message_retention_seconds => 86400);';

revoke execute on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) from public;
grant execute on function fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) to fastqueue_admin;

create or replace function fastqueue._save_queue(
    creating boolean,
    id text,
    topic_id text,
    ack_deadline_seconds integer,
    message_retention_seconds integer,
    message_filters jsonb,
    dead_queue_id text,
    message_max_deliveries integer,
    delivery_delay_seconds integer,
    retry_min_backoff_seconds integer,
    retry_max_backoff_seconds integer,
    enable_message_ordering boolean,
    filter text,
    push_endpoint text,
    push_format text,
    push_secret text,
    push_max_in_flight integer
)
returns fastqueue.queue_settings
language plpgsql
as $$
declare
    v_queue fastqueue.queue_settings;
    v_constraint text;
    v_column text;
begin
    if not _save_queue.creating then
        perform fastqueue._queue(_save_queue.id);
    end if;
    if _save_queue.topic_id is not null then
        -- Locked, not only read: a delete_topic committing before the write would fail it with 23503.
        perform fastqueue._lock_topic(_save_queue.topic_id);
    end if;
    if _save_queue.dead_queue_id is not null and _save_queue.dead_queue_id is distinct from _save_queue.id then
        perform fastqueue._lock_queue(_save_queue.dead_queue_id);
    end if;
    perform fastqueue._check_push_endpoint(_save_queue.push_endpoint);

    if _save_queue.creating then
        -- A new queue is inserted with its required settings and gets the others from the same
        -- UPDATE as update_queue's, below.
        insert into fastqueue.queues (id, ack_deadline_seconds, message_retention_seconds)
        values (_save_queue.id, _save_queue.ack_deadline_seconds, _save_queue.message_retention_seconds);
        -- A publish that read a deleted queue of this id and committed after its delete may have
        -- left messages behind (deliveries have no foreign key): they are not this queue's.
        delete from fastqueue.deliveries m where m.queue_id = _save_queue.id;
    end if;
    update fastqueue.queues q
       set topic_id = _save_queue.topic_id,
           ack_deadline_seconds = _save_queue.ack_deadline_seconds,
           message_retention_seconds = _save_queue.message_retention_seconds,
           message_filters = nullif(_save_queue.message_filters, 'null'::jsonb),
           dead_queue_id = _save_queue.dead_queue_id,
           message_max_deliveries = _save_queue.message_max_deliveries,
           delivery_delay_seconds = _save_queue.delivery_delay_seconds,
           retry_min_backoff_seconds = _save_queue.retry_min_backoff_seconds,
           retry_max_backoff_seconds = _save_queue.retry_max_backoff_seconds,
           enable_message_ordering = coalesce(_save_queue.enable_message_ordering, false),
           filter = _save_queue.filter,
           filter_ast = fastqueue._parse_filter(_save_queue.filter),
           push_endpoint = _save_queue.push_endpoint,
           push_format = coalesce(_save_queue.push_format, 'wrapped'),
           push_max_in_flight = coalesce(_save_queue.push_max_in_flight, 16),
           push_secret_set = fastqueue._set_push_secret(_save_queue.id, _save_queue.push_secret),
           updated_at = case when _save_queue.creating then q.updated_at else now() end
     where q.id = _save_queue.id;
    if not found then
        perform fastqueue._queue(_save_queue.id);  -- deleted meanwhile: "Queue not found"
    end if;
    select * into v_queue from fastqueue.queue_settings s where s.id = _save_queue.id;
    return v_queue;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This queue already exists',
            detail = format('A queue with id %L exists already.', _save_queue.id);
    when not_null_violation then
        get stacked diagnostics v_column = column_name;
        raise exception using errcode = 'invalid_parameter_value', message = format('%s is required', v_column);
    when check_violation then
        get stacked diagnostics v_constraint = constraint_name;
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message(v_constraint);
end;
$$;

comment on function fastqueue._save_queue(boolean, text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) is
'Internal: what create_queue (creating true: inserts the queue, error 23505 "This queue already exists") and update_queue (creating false: error P0002 "Queue not found") both do with their settings: locks the topic and the dead queue (P0002 when missing), checks push_endpoint, writes every setting (22023 naming the broken rule, from the constraint''s COMMENT, or "<column> is required"), stores or keeps push_secret, and returns the queue as a caller sees it.';

revoke execute on function fastqueue._save_queue(boolean, text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text, text, text, text, integer) from public;

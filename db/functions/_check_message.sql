create or replace function fastqueue._check_message(
    data jsonb,
    attributes jsonb,
    delay_seconds integer,
    deduplication_id text,
    ordering_key text,
    label text default null
)
returns void
language plpgsql
stable
as $$
declare
    -- "messages[3]: data must be a JSON object" in a batch, the bare sentence for a single publish.
    v_prefix text := coalesce(_check_message.label || ': ', '');
    v_limit_setting text := nullif(btrim(current_setting('fastqueue.max_message_bytes', true)), '');
    v_limit bigint := 1048576;
    v_size bigint;
begin
    -- Checked here as well as by the table's constraints: a message that reaches no queue must be
    -- refused all the same, and a batch must say which of its messages is at fault.
    if _check_message.data is null or jsonb_typeof(_check_message.data) <> 'object' then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || fastqueue._constraint_message('messages_data_object');
    end if;
    if _check_message.attributes is not null
       and (jsonb_typeof(_check_message.attributes) <> 'object'
            or jsonb_path_exists(_check_message.attributes, 'strict $.* ? (@.type() != "string")')) then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || fastqueue._constraint_message('messages_attributes_shape');
    end if;
    if _check_message.delay_seconds not between 0 and 900 then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || 'delay_seconds must be null or between 0 and 900',
            detail = format('delay_seconds was %s.', _check_message.delay_seconds);
    end if;
    if char_length(_check_message.deduplication_id) not between 1 and 128 then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || fastqueue._constraint_message('deduplications_deduplication_id_length');
    end if;
    if char_length(_check_message.ordering_key) not between 1 and 128 then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || fastqueue._constraint_message('messages_ordering_key_length');
    end if;

    -- The size rule: data and attributes as JSON text, in bytes, at most the custom setting
    -- fastqueue.max_message_bytes (1 MiB when unset; the gateway sets it on its connections).
    if v_limit_setting is not null then
        if v_limit_setting ~ '^[0-9]{1,18}$' then
            v_limit := v_limit_setting::bigint;
        end if;
        if v_limit_setting !~ '^[0-9]{1,18}$' or v_limit < 1 then
            raise exception using errcode = 'invalid_parameter_value',
                message = 'fastqueue.max_message_bytes must be a whole number of bytes, 1 or more',
                detail = format('fastqueue.max_message_bytes is %L.', v_limit_setting);
        end if;
    end if;
    v_size := octet_length(_check_message.data::text) + coalesce(octet_length(_check_message.attributes::text), 0);
    if v_size > v_limit then
        raise exception using errcode = 'program_limit_exceeded',
            message = v_prefix || format('Message too large: %s bytes, the limit is %s bytes', v_size, v_limit),
            detail = 'data and attributes are counted as JSON text.',
            hint = 'Send a smaller message; operators raise the limit with the setting fastqueue.max_message_bytes.';
    end if;
end;
$$;

comment on function fastqueue._check_message(jsonb, jsonb, integer, text, text, text) is
'Internal: the rules of one published message, for publish and publish_batch alike: data a JSON object (22023), attributes null or an object of strings (22023), delay_seconds null or 0..900 (22023), deduplication_id and ordering_key null or 1..128 characters (22023), and data + attributes as JSON text at most fastqueue.max_message_bytes bytes (54000). attributes must already have JSON null turned into SQL null. label, when given ("messages[3]"), prefixes every message.';

revoke execute on function fastqueue._check_message(jsonb, jsonb, integer, text, text, text) from public;

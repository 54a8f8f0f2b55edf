create or replace function fastqueue._raise_message_fault(fault text, message jsonb, label text default null)
returns void
language plpgsql
stable
as $$
declare
    -- "messages[3]: data must be a JSON object" in a batch, the bare sentence for a single publish.
    v_prefix text := coalesce(_raise_message_fault.label || ': ', '');
    v_attributes jsonb := nullif(_raise_message_fault.message -> 'attributes', 'null'::jsonb);
    v_delay int4range := fastqueue._allowed('delay_seconds');
    v_limit bigint;
    v_size bigint;
begin
    -- The sentence of each rule that _message_fault and _batch_message_fault name; the rules
    -- themselves are theirs.
    case _raise_message_fault.fault
        when 'item' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'must be a JSON object with data (and optionally attributes, delay_seconds, deduplication_id, ordering_key)';
        when 'item_fields' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'unknown field; a message has data, attributes, delay_seconds, deduplication_id and ordering_key',
                detail = format('Fields given: %s.',
                                (select string_agg(k, ', ') from jsonb_object_keys(_raise_message_fault.message) k));
        when 'deduplication_id_type', 'ordering_key_type' then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('%s%s must be null or a string of 1 to 128 characters', v_prefix,
                                 left(_raise_message_fault.fault, -length('_type')));
        when 'data' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'data must be a JSON object';
        when 'data_depth' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'data must not nest deeper than 100 levels';
        when 'attributes' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'attributes must be null or a JSON object whose values are all strings';
        when 'delay_seconds' then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('%sdelay_seconds must be null or between %s and %s', v_prefix,
                                 lower(v_delay), upper(v_delay) - 1),
                detail = format('delay_seconds was %s.', _raise_message_fault.message -> 'delay_seconds');
        when 'deduplication_id' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || fastqueue._constraint_message('deduplications_deduplication_id_length');
        when 'ordering_key' then
            raise exception using errcode = 'invalid_parameter_value',
                message = v_prefix || 'ordering_key must be null or 1 to 128 characters';
        when 'size' then
            -- The custom setting fastqueue.max_message_bytes (1 MiB when unset; the gateway sets it
            -- on its connections).
            v_limit := fastqueue._max_message_bytes();
            v_size := octet_length((_raise_message_fault.message -> 'data')::text)
                      + coalesce(octet_length(v_attributes::text), 0);
            raise exception using errcode = 'program_limit_exceeded',
                message = v_prefix || format('Message too large: %s bytes, the limit is %s bytes', v_size, v_limit),
                detail = 'data and attributes are counted as JSON text.',
                hint = 'Send a smaller message; operators raise the limit with the setting fastqueue.max_message_bytes.';
        else
            raise exception using errcode = 'internal_error',
                message = format('unknown message fault %L', _raise_message_fault.fault);
    end case;
end;
$$;

comment on function fastqueue._raise_message_fault(text, jsonb, text) is
'Internal: raises the error for a rule that _message_fault or _batch_message_fault named (fault), about message (an element of publish_batch''s array, or {"data", "attributes", "delay_seconds"} of a single publish): 22023 with the sentence of the rule, or 54000 "Message too large: <size> bytes, the limit is <limit> bytes". label, when given ("messages[3]"), prefixes the message. Never returns.';

revoke execute on function fastqueue._raise_message_fault(text, jsonb, text) from public;

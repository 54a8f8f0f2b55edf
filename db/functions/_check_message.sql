create or replace function fastqueue._check_message(
    data jsonb,
    attributes jsonb,
    delay_seconds integer,
    deduplication_id text,
    ordering_key text,
    label text default null
)
returns boolean
language plpgsql
stable
as $$
declare
    v_prefix text;
    v_limit bigint;
    v_size bigint;
begin
    -- The rules of a message, checked here for every writer (the table has no CHECK on data and
    -- attributes: a constraint is prepared anew by every statement that writes a row). A message
    -- that reaches no queue is refused all the same, and a batch says which message is at fault.
    -- First all rules in one expression, the cost of a publish that keeps them (PL/pgSQL prepares
    -- each expression again in every transaction); then one by one, to say which was broken.
    if fastqueue._message_valid(_check_message.data, _check_message.attributes, _check_message.delay_seconds,
                                _check_message.deduplication_id, _check_message.ordering_key,
                                fastqueue._max_message_bytes()) then
        return true;
    end if;

    -- "messages[3]: data must be a JSON object" in a batch, the bare sentence for a single publish.
    v_prefix := coalesce(_check_message.label || ': ', '');
    if _check_message.data is null or jsonb_typeof(_check_message.data) <> 'object' then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || 'data must be a JSON object';
    end if;
    -- JSON parsers and serializers refuse deeper documents (the gateway's stops at 255 levels):
    -- stored, such a message could never be delivered.
    if jsonb_path_exists(_check_message.data, 'strict $.**{101}') then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || 'data must not nest deeper than 100 levels';
    end if;
    if _check_message.attributes is not null
       and (jsonb_typeof(_check_message.attributes) <> 'object'
            or jsonb_path_exists(_check_message.attributes, 'strict $.* ? (@.type() != "string")')) then
        raise exception using errcode = 'invalid_parameter_value',
            message = v_prefix || 'attributes must be null or a JSON object whose values are all strings';
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
            message = v_prefix || 'ordering_key must be null or 1 to 128 characters';
    end if;

    -- The size rule: data and attributes as JSON text, in bytes, at most the custom setting
    -- fastqueue.max_message_bytes (1 MiB when unset; the gateway sets it on its connections).
    v_limit := fastqueue._max_message_bytes();
    v_size := octet_length(_check_message.data::text) + coalesce(octet_length(_check_message.attributes::text), 0);
    if v_size > v_limit then
        raise exception using errcode = 'program_limit_exceeded',
            message = v_prefix || format('Message too large: %s bytes, the limit is %s bytes', v_size, v_limit),
            detail = 'data and attributes are counted as JSON text.',
            hint = 'Send a smaller message; operators raise the limit with the setting fastqueue.max_message_bytes.';
    end if;
    -- A value, not void: callers test it in an IF, which PL/pgSQL evaluates without starting a
    -- query executor as PERFORM would.
    return true;
end;
$$;

comment on function fastqueue._check_message(jsonb, jsonb, integer, text, text, text) is
'Internal: the rules of one published message, for publish and publish_batch alike: data a JSON object nesting at most 100 levels (22023), attributes null or an object of strings (22023), delay_seconds null or 0..900 (22023), deduplication_id and ordering_key null or 1..128 characters (22023), and data + attributes as JSON text at most fastqueue.max_message_bytes bytes (54000). attributes must already have JSON null turned into SQL null. label, when given ("messages[3]"), prefixes every message. Returns true when every rule holds (and raises otherwise).';

revoke execute on function fastqueue._check_message(jsonb, jsonb, integer, text, text, text) from public;

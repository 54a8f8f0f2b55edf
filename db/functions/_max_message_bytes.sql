create or replace function fastqueue._max_message_bytes()
returns bigint
language plpgsql
stable
as $$
declare
    v_setting text := btrim(current_setting('fastqueue.max_message_bytes', true));
begin
    -- The custom setting fastqueue.max_message_bytes, 1 MiB when unset (the gateway sets it on its
    -- connections from FASTQUEUE_MAX_MESSAGE_BYTES). As few expressions as can be on the way of a
    -- valid setting: PL/pgSQL prepares each one again in every transaction.
    if v_setting ~ '^[0-9]{1,18}$' and v_setting::bigint >= 1 then
        return v_setting::bigint;
    end if;
    if coalesce(v_setting, '') = '' then
        return 1048576;
    end if;
    raise exception using errcode = 'invalid_parameter_value',
        message = 'fastqueue.max_message_bytes must be a whole number of bytes, 1 or more',
        detail = format('fastqueue.max_message_bytes is %L.', v_setting);
end;
$$;

comment on function fastqueue._max_message_bytes() is
'Internal: the size limit of one message (data and attributes as JSON text) in bytes: the setting fastqueue.max_message_bytes, 1048576 (1 MiB) when unset; error 22023 when it is not a whole number of bytes, 1 or more.';

revoke execute on function fastqueue._max_message_bytes() from public;

create or replace function fastqueue._bytes_setting(name text, unset bigint)
returns bigint
language plpgsql
stable
as $$
declare
    v_setting text := btrim(current_setting(_bytes_setting.name, true));
begin
    -- As few expressions as can be on the way of a valid setting: PL/pgSQL prepares each one again
    -- in every transaction, and publish and consume read one of these settings on every call.
    if v_setting ~ '^[0-9]{1,18}$' and v_setting::bigint >= 1 then
        return v_setting::bigint;
    end if;
    if coalesce(v_setting, '') = '' then
        return _bytes_setting.unset;
    end if;
    raise exception using errcode = 'invalid_parameter_value',
        message = format('%s must be a whole number of bytes, 1 or more', _bytes_setting.name),
        detail = format('%s is %L.', _bytes_setting.name, v_setting);
end;
$$;

comment on function fastqueue._bytes_setting(text, bigint) is
'Internal: the custom setting with this name as a number of bytes, or unset when it is not set (or empty); error 22023 when it is not a whole number of bytes, 1 or more. Read by _max_message_bytes and _max_response_bytes.';

revoke execute on function fastqueue._bytes_setting(text, bigint) from public;

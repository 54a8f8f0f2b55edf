create or replace function fastqueue._max_response_bytes()
returns bigint
language plpgsql
stable
as $$
declare
    v_setting text := btrim(current_setting('fastqueue.max_response_bytes', true));
begin
    -- The custom setting fastqueue.max_response_bytes, null (no bound) when unset: the gateway sets
    -- it on its connections from FASTQUEUE_MAX_RESPONSE_BYTES, so that a consume it answers leases
    -- no more than the answer may hold; a direct SQL caller gets every message it asked for.
    if v_setting ~ '^[0-9]{1,18}$' and v_setting::bigint >= 1 then
        return v_setting::bigint;
    end if;
    if coalesce(v_setting, '') = '' then
        return null;
    end if;
    raise exception using errcode = 'invalid_parameter_value',
        message = 'fastqueue.max_response_bytes must be a whole number of bytes, 1 or more',
        detail = format('fastqueue.max_response_bytes is %L.', v_setting);
end;
$$;

comment on function fastqueue._max_response_bytes() is
'Internal: the most bytes a consume() or peek() answer may hold (the setting fastqueue.max_response_bytes), null (no bound) when unset; error 22023 when it is not a whole number of bytes, 1 or more.';

revoke execute on function fastqueue._max_response_bytes() from public;

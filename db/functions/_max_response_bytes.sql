create or replace function fastqueue._max_response_bytes()
returns bigint
language sql
stable
as $$
    -- The gateway sets it on its connections from FASTQUEUE_MAX_RESPONSE_BYTES, so that a consume it
    -- answers leases no more than the answer may hold; unset (a direct SQL caller), no bound: null.
    select fastqueue._bytes_setting('fastqueue.max_response_bytes', null);
$$;

comment on function fastqueue._max_response_bytes() is
'Internal: the most bytes a consume() or peek() answer may hold (the setting fastqueue.max_response_bytes), null (no bound) when unset; error 22023 when it is not a whole number of bytes, 1 or more.';

revoke execute on function fastqueue._max_response_bytes() from public;

create or replace function fastqueue._max_message_bytes()
returns bigint
language sql
stable
as $$
    -- The gateway sets it on its connections from FASTQUEUE_MAX_MESSAGE_BYTES; 1 MiB when unset.
    select fastqueue._bytes_setting('fastqueue.max_message_bytes', 1048576);
$$;

comment on function fastqueue._max_message_bytes() is
'Internal: the size limit of one message (data and attributes as JSON text) in bytes: the setting fastqueue.max_message_bytes, 1048576 (1 MiB) when unset; error 22023 when it is not a whole number of bytes, 1 or more.';

revoke execute on function fastqueue._max_message_bytes() from public;

create or replace function fastqueue._answer_bytes(queue_id text, data jsonb, attributes jsonb, ordering_key text)
returns bigint
language sql
immutable
parallel safe
as $$
    -- An upper bound of a message's size in the gateway's JSON answer: data and attributes as
    -- PostgreSQL writes them (the gateway only removes the spaces after "," and ":"), the queue id,
    -- the ordering key with every character escaped (\u00XX), and 256 bytes for the field names,
    -- the id, the count and the four timestamps.
    select 256 + octet_length(_answer_bytes.queue_id)
           + octet_length(_answer_bytes.data::text)
           + coalesce(octet_length(_answer_bytes.attributes::text), 4)
           + coalesce(6 * octet_length(_answer_bytes.ordering_key), 4)
$$;

comment on function fastqueue._answer_bytes(text, jsonb, jsonb, text) is
'Internal: an upper bound of the bytes one message takes in the gateway''s JSON answer (its data and attributes as JSON text, its queue id and ordering key, 256 bytes for the other fields); consume() and peek() stop at fastqueue.max_response_bytes by it.';

revoke execute on function fastqueue._answer_bytes(text, jsonb, jsonb, text) from public;

create or replace function fastqueue._answer_bytes(queue_id text, size_bytes bigint, ordering_key text)
returns bigint
language sql
immutable
parallel safe
as $$
    -- An upper bound of a message's size in the gateway's JSON answer: its data and attributes as
    -- PostgreSQL writes them (size_bytes, stored with its body at publish; the gateway only removes
    -- the spaces after "," and ":"), 4 for attributes written as null, the queue id, the ordering key
    -- with every character escaped (\u00XX), and 256 bytes for the field names, the id, the count
    -- and the four timestamps.
    select 256 + octet_length(_answer_bytes.queue_id) + _answer_bytes.size_bytes + 4
           + coalesce(6 * octet_length(_answer_bytes.ordering_key), 4)
$$;

comment on function fastqueue._answer_bytes(text, bigint, text) is
'Internal: an upper bound of the bytes one message takes in the gateway''s JSON answer (size_bytes: its data and attributes as JSON text, as message_bodies stores it; its queue id and ordering key; 260 bytes for the other fields); consume() and peek() stop at fastqueue.max_response_bytes by it.';

revoke execute on function fastqueue._answer_bytes(text, bigint, text) from public;

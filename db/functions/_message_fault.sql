create or replace function fastqueue._message_fault(
    data jsonb,
    attributes jsonb,
    delay_seconds integer,
    deduplication_id text,
    ordering_key text,
    max_message_bytes bigint
)
returns text
language sql
immutable
parallel safe
as $$
    -- The rules of one message, each written once, in the order they are reported: null when all
    -- hold, else the name of the first one broken, which _raise_message_fault turns into its
    -- sentence. publish, send and (through _batch_message_fault) publish_batch check with this.
    -- A plain SQL expression, so the planner inlines it into its callers; CASE, not AND, so a
    -- later test never runs on a value an earlier one refused. attributes must already have JSON
    -- null turned into SQL null.
    select case
        when coalesce(jsonb_typeof(data), 'missing') <> 'object' then 'data'
        -- JSON parsers and serializers refuse deeper documents (the gateway's stops at 255
        -- levels): stored, such a message could never be delivered.
        when jsonb_path_exists(data, 'strict $.**{101}') then 'data_depth'
        when attributes is not null
             and (jsonb_typeof(attributes) <> 'object'
                  or jsonb_path_exists(attributes, 'strict $.* ? (@.type() != "string")')) then 'attributes'
        when not delay_seconds <@ fastqueue._allowed('delay_seconds') then 'delay_seconds'
        when char_length(deduplication_id) not between 1 and 128 then 'deduplication_id'
        when char_length(ordering_key) not between 1 and 128 then 'ordering_key'
        -- The size rule: data and attributes as JSON text, in bytes.
        when octet_length(data::text) + coalesce(octet_length(attributes::text), 0) > max_message_bytes then 'size'
    end
$$;

comment on function fastqueue._message_fault(jsonb, jsonb, integer, text, text, bigint) is
'Internal: the first rule of publish() that one message breaks, by name, or null when it keeps them all: data (a JSON object), data_depth (nesting at most 100 levels), attributes (null or an object of strings), delay_seconds (null or 0..900), deduplication_id and ordering_key (null or 1..128 characters), size (data + attributes as JSON text at most max_message_bytes). attributes must already have JSON null turned into SQL null. _raise_message_fault raises the error that names it.';

-- No SECURITY DEFINER or SET clause: either would stop the planner from inlining this into its
-- callers' expressions.
revoke execute on function fastqueue._message_fault(jsonb, jsonb, integer, text, text, bigint) from public;

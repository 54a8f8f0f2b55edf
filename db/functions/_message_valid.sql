create or replace function fastqueue._message_valid(
    data jsonb,
    attributes jsonb,
    delay_seconds integer,
    deduplication_id text,
    ordering_key text,
    max_message_bytes bigint
)
returns boolean
language sql
immutable
parallel safe
as $$
    -- Every rule of one message in one expression, false when any is broken (never null for a
    -- non-null limit): what a publish that keeps them pays. _check_message raises the sentence for
    -- the rule that is broken; both use this for the rules, publish_batch too (_batch_message_valid).
    -- A plain SQL expression, so the planner inlines it into its callers. attributes must already
    -- have JSON null turned into SQL null.
    select coalesce(jsonb_typeof(data), 'missing') = 'object'
       and not jsonb_path_exists(data, 'strict $.**{101}')
       and (attributes is null
            or (jsonb_typeof(attributes) = 'object'
                and not jsonb_path_exists(attributes, 'strict $.* ? (@.type() != "string")')))
       and (delay_seconds is null or delay_seconds between 0 and 900)
       and (deduplication_id is null or char_length(deduplication_id) between 1 and 128)
       and (ordering_key is null or char_length(ordering_key) between 1 and 128)
       and octet_length(data::text) + coalesce(octet_length(attributes::text), 0) <= max_message_bytes
$$;

comment on function fastqueue._message_valid(jsonb, jsonb, integer, text, text, bigint) is
'Internal: whether one message keeps every rule of publish() (data a JSON object nesting at most 100 levels, attributes null or an object of strings, delay_seconds 0..900, deduplication_id and ordering_key 1..128 characters, data + attributes as JSON text at most max_message_bytes), as true or false. _check_message says which rule is broken.';

-- No SECURITY DEFINER or SET clause: either would stop the planner from inlining this into its
-- callers' expressions.
revoke execute on function fastqueue._message_valid(jsonb, jsonb, integer, text, text, bigint) from public;

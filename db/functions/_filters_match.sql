create or replace function fastqueue._filters_match(filters jsonb, attributes jsonb)
returns boolean
language sql
immutable
parallel safe
as $$
    -- No filter takes everything; otherwise every filtered key must be present with an allowed value.
    -- A missing key (or null attributes) gives [null], which no list of strings contains.
    select filters is null
        or not exists (
            select
              from jsonb_each(filters) as f (key, allowed)
             where not f.allowed @> jsonb_build_array(attributes -> f.key))
$$;

comment on function fastqueue._filters_match(jsonb, jsonb) is
'Internal: whether a message with these attributes passes a queue''s message_filters ({"key": ["allowed", ...]}): null filters pass everything; otherwise every key must be present with one of its allowed values.';

-- No SECURITY DEFINER or SET clause: either would stop the planner from inlining this into its
-- callers' queries, which already run with their own fixed search_path.
revoke execute on function fastqueue._filters_match(jsonb, jsonb) from public;

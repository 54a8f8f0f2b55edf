create or replace function fastqueue._attributes_match_filters(attributes jsonb, message_filters jsonb)
returns boolean
language plpgsql
immutable
parallel safe
as $$
begin
    -- No filter takes everything; otherwise every filtered key must be present with an allowed value.
    -- A missing key (or null attributes) gives [null], which no list of strings contains.
    -- PL/pgSQL, not SQL: the subquery keeps the planner from inlining a SQL function, and a SQL
    -- function that is not inlined is planned anew in every statement that calls it; PL/pgSQL
    -- keeps its plan for the session.
    if message_filters is null then
        return true;
    end if;
    return not exists (
        select
          from jsonb_each(message_filters) as f (key, allowed)
         where not f.allowed @> jsonb_build_array(attributes -> f.key));
end;
$$;

comment on function fastqueue._attributes_match_filters(jsonb, jsonb) is
'Internal: whether a message with these attributes passes a queue''s message_filters ({"key": ["allowed", ...]}): null message_filters pass everything; otherwise every key must be present with one of its allowed values. (The filter expression is _expression_matches''s.)';

revoke execute on function fastqueue._attributes_match_filters(jsonb, jsonb) from public;

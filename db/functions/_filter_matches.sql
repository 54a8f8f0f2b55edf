create or replace function fastqueue._filter_matches(filter_ast jsonb, attributes jsonb)
returns boolean
language plpgsql
immutable
as $$
begin
    if filter_ast is null then
        return true;  -- no filter expression: every message passes
    end if;
    -- The evaluator of parsed filter expressions lands with the publisher features; until then
    -- _parse_filter refuses every expression, so no queue has a filter_ast.
    raise exception using errcode = 'feature_not_supported', message = 'filter expressions are not supported yet';
end;
$$;

comment on function fastqueue._filter_matches(jsonb, jsonb) is
'Internal: whether a message with these attributes passes a queue''s parsed filter expression (filter_ast; null passes everything).';

revoke execute on function fastqueue._filter_matches(jsonb, jsonb) from public;

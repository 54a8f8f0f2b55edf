create or replace function fastqueue._expression_matches(filter_ast jsonb, attributes jsonb)
returns boolean
language plpgsql
immutable
parallel safe
as $$
declare
    v_arg jsonb;
begin
    if filter_ast is null then
        return true;  -- no filter expression: every message passes
    end if;
    -- Null attributes have no keys: ->> gives null and ? gives null, so eq, has and prefix are
    -- false and ne is true, as for any missing key.
    case filter_ast ->> 'op'
        when 'eq' then
            return coalesce(attributes ->> (filter_ast ->> 'key') = filter_ast ->> 'value', false);
        when 'ne' then
            -- Pub/Sub: != is the negation of =, so a message without the key passes.
            return (attributes ->> (filter_ast ->> 'key')) is distinct from (filter_ast ->> 'value');
        when 'has' then
            return coalesce(attributes ? (filter_ast ->> 'key'), false);
        when 'prefix' then
            return coalesce(starts_with(attributes ->> (filter_ast ->> 'key'), filter_ast ->> 'value'), false);
        when 'not' then
            return not fastqueue._expression_matches(filter_ast -> 'arg', attributes);
        when 'and' then
            for v_arg in select a from jsonb_array_elements(filter_ast -> 'args') as a loop
                if not fastqueue._expression_matches(v_arg, attributes) then
                    return false;  -- short-circuit: the rest need not run
                end if;
            end loop;
            return true;
        when 'or' then
            for v_arg in select a from jsonb_array_elements(filter_ast -> 'args') as a loop
                if fastqueue._expression_matches(v_arg, attributes) then
                    return true;
                end if;
            end loop;
            return false;
        else
            -- Only _parse_filter writes filter_ast; anything else is a bug, not a message to drop.
            raise exception using errcode = 'data_corrupted',
                message = format('filter_ast has an unknown op: %s', filter_ast ->> 'op');
    end case;
end;
$$;

comment on function fastqueue._expression_matches(jsonb, jsonb) is
'Internal: whether a message with these attributes passes a queue''s parsed filter expression (filter_ast from _parse_filter; null passes everything; message_filters are _attributes_match_filters''s).
Pub/Sub''s semantics: attributes.k = "v" and hasPrefix(attributes.k, "p") are false when k is missing; attributes.k != "v" is NOT (attributes.k = "v"), so true when k is missing; attributes:k is true when k is present; null attributes have no keys. AND and OR short-circuit.';

revoke execute on function fastqueue._expression_matches(jsonb, jsonb) from public;

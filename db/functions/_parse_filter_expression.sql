create or replace function fastqueue._parse_filter_expression(
    kinds text[],
    vals text[],
    descriptions text[],
    positions integer[],
    start integer,
    out ast jsonb,
    out next integer
)
language plpgsql
immutable
as $$
declare
    v_i integer := _parse_filter_expression.start;
    v_operator text;        -- 'and' or 'or' once the first one is seen
    v_args jsonb := '[]';
    v_negations integer;
    v_term jsonb;
    v_key text;
    v_open integer;
    v_inner record;
begin
    -- expression = term { (AND | OR) term }, one operator per level. Stops before the first token
    -- that cannot continue it (")" or the end, or an error for the caller to name).
    loop
        -- term = { NOT | "-" } operand; NOT NOT x is x.
        v_negations := 0;
        while kinds[v_i] = '-' or (kinds[v_i] = 'word' and vals[v_i] = 'NOT') loop
            v_negations := v_negations + 1;
            v_i := v_i + 1;
        end loop;

        if kinds[v_i] = '(' then
            -- One call per level of parentheses: at most 128 levels fit in 256 characters.
            v_open := v_i;
            v_inner := fastqueue._parse_filter_expression(kinds, vals, descriptions, positions, v_i + 1);
            v_i := v_inner.next;
            if v_inner.ast is null then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: empty parentheses at position %s', positions[v_open]);
            elsif kinds[v_i] <> ')' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected AND, OR or ")" at position %s, found %s (the "(" at position %s is still open)',
                        positions[v_i], descriptions[v_i], positions[v_open]);
            end if;
            v_term := v_inner.ast;
            v_i := v_i + 1;

        elsif kinds[v_i] = ')' and v_negations = 0 and jsonb_array_length(v_args) = 0 and v_operator is null then
            -- "()": the caller names the error.
            ast := null;
            next := v_i;
            return;

        elsif kinds[v_i] = 'word' and vals[v_i] = 'attributes' then
            if kinds[v_i + 1] = ':' then
                -- attributes:KEY
                if kinds[v_i + 2] not in ('key', 'string') then
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: expected an attribute name after "attributes:" at position %s, found %s',
                            positions[v_i + 2], descriptions[v_i + 2]);
                end if;
                v_term := jsonb_build_object('op', 'has', 'key', vals[v_i + 2]);
                v_i := v_i + 3;
            elsif kinds[v_i + 1] = '.' then
                -- attributes.KEY = "value" / attributes.KEY != "value"
                if kinds[v_i + 2] not in ('key', 'string') then
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: expected an attribute name after "attributes." at position %s, found %s',
                            positions[v_i + 2], descriptions[v_i + 2]);
                end if;
                v_key := vals[v_i + 2];
                if kinds[v_i + 3] not in ('=', '!=') then
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: expected "=" or "!=" after attributes.%s at position %s, found %s',
                            v_key, positions[v_i + 3], descriptions[v_i + 3]);
                end if;
                if kinds[v_i + 4] <> 'string' then
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: expected a string in double quotes after "%s" at position %s, found %s',
                            kinds[v_i + 3], positions[v_i + 4], descriptions[v_i + 4]);
                end if;
                v_term := jsonb_build_object('op', case kinds[v_i + 3] when '=' then 'eq' else 'ne' end,
                    'key', v_key, 'value', vals[v_i + 4]);
                v_i := v_i + 5;
            else
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected "." or ":" after attributes at position %s, found %s',
                        positions[v_i + 1], descriptions[v_i + 1]);
            end if;

        elsif kinds[v_i] = 'word' and vals[v_i] = 'hasPrefix' then
            -- hasPrefix(attributes.KEY, "prefix"): checked token by token against its shape.
            if kinds[v_i + 1] <> '(' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected "(" after hasPrefix at position %s, found %s',
                        positions[v_i + 1], descriptions[v_i + 1]);
            elsif kinds[v_i + 2] <> 'word' or vals[v_i + 2] <> 'attributes' or kinds[v_i + 3] <> '.' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected attributes.KEY as the first argument of hasPrefix at position %s, found %s',
                        positions[v_i + 2], descriptions[v_i + 2]);
            elsif kinds[v_i + 4] not in ('key', 'string') then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected an attribute name after "attributes." at position %s, found %s',
                        positions[v_i + 4], descriptions[v_i + 4]);
            elsif kinds[v_i + 5] <> ',' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected "," after hasPrefix(attributes.%s at position %s, found %s',
                        vals[v_i + 4], positions[v_i + 5], descriptions[v_i + 5]);
            elsif kinds[v_i + 6] <> 'string' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected the prefix as a string in double quotes at position %s, found %s',
                        positions[v_i + 6], descriptions[v_i + 6]);
            elsif kinds[v_i + 7] <> ')' then
                raise exception using errcode = 'invalid_parameter_value',
                    message = format('filter: expected ")" closing hasPrefix at position %s, found %s',
                        positions[v_i + 7], descriptions[v_i + 7]);
            end if;
            v_term := jsonb_build_object('op', 'prefix', 'key', vals[v_i + 4], 'value', vals[v_i + 6]);
            v_i := v_i + 8;

        else
            raise exception using errcode = 'invalid_parameter_value',
                message = format('filter: expected a condition (attributes.KEY = "value", attributes.KEY != "value", attributes:KEY, hasPrefix(attributes.KEY, "prefix"), NOT or "(") at position %s, found %s%s',
                    positions[v_i], descriptions[v_i],
                    case when upper(vals[v_i]) in ('AND', 'OR', 'NOT', 'ATTRIBUTES', 'HASPREFIX')
                         then ' (keywords are case-sensitive: AND, OR, NOT, attributes, hasPrefix)' else '' end);
        end if;

        if v_negations % 2 = 1 then
            v_term := jsonb_build_object('op', 'not', 'arg', v_term);
        end if;
        v_args := v_args || jsonb_build_array(v_term);

        -- AND or OR continues this level; Pub/Sub gives them no precedence, so one level holds one kind.
        exit when kinds[v_i] <> 'word' or vals[v_i] not in ('AND', 'OR');
        if v_operator is null then
            v_operator := lower(vals[v_i]);
        elsif v_operator <> lower(vals[v_i]) then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('filter: %s at position %s follows %s: AND and OR mix only with parentheses, e.g. a AND (b OR c)',
                    vals[v_i], positions[v_i], upper(v_operator));
        end if;
        v_i := v_i + 1;
    end loop;

    ast := case when v_operator is null then v_args -> 0
                else jsonb_build_object('op', v_operator, 'args', v_args) end;
    next := v_i;
end;
$$;

comment on function fastqueue._parse_filter_expression(text[], text[], text[], integer[], integer) is
'Internal: the recursive-descent step of _parse_filter: parses one expression (terms joined by AND or by OR) from the token at start, calling itself for each parenthesized expression. Returns the jsonb tree and the index of the first token after it; errors are 22023 with the position.';

revoke execute on function fastqueue._parse_filter_expression(text[], text[], text[], integer[], integer) from public;

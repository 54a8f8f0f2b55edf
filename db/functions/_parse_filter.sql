create or replace function fastqueue._parse_filter(filter text)
returns jsonb
language plpgsql
immutable
as $$
declare
    v_length integer := char_length(_parse_filter.filter);
    v_pos integer := 1;
    v_start integer;
    v_escape integer;
    v_char text;
    v_value text;
    v_digits text;
    v_code integer;
    v_width integer;
    -- The tokens, in parallel arrays: kind ('word', 'key', 'string', 'end' or the punctuation
    -- itself), value (a word, a key, a string with its escapes resolved), how an error message
    -- names it, and the 1-based position of its first character.
    v_kinds text[] := '{}';
    v_values text[] := '{}';
    v_found text[] := '{}';
    v_positions integer[] := '{}';
    v_result record;
begin
    if _parse_filter.filter is null or _parse_filter.filter = '' then
        return null;  -- no filter; an empty string is then refused by queues_filter_length
    end if;
    if v_length > 256 then
        -- The table's rule, checked before parsing so that a long filter gets the same answer
        -- whether or not it parses.
        raise exception using errcode = 'invalid_parameter_value',
            message = fastqueue._constraint_message('queues_filter_length');
    end if;

    -- Tokenizer. Context matters in one place: right after "." or ":" comes an attribute name,
    -- which may contain and start with "-" and digits (attributes.x-request-id); elsewhere "-"
    -- is the short form of NOT.
    while v_pos <= v_length loop
        v_char := substr(_parse_filter.filter, v_pos, 1);
        v_start := v_pos;
        if v_char ~ '\s' then
            v_pos := v_pos + 1;
            continue;
        elsif v_char = '"' then
            v_value := '';
            v_pos := v_pos + 1;
            loop
                if v_pos > v_length then
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: unterminated string starting at position %s: close it with a double quote', v_start);
                end if;
                v_char := substr(_parse_filter.filter, v_pos, 1);
                if v_char = '"' then
                    v_pos := v_pos + 1;
                    exit;
                elsif v_char <> '\' then
                    v_value := v_value || v_char;
                    v_pos := v_pos + 1;
                    continue;
                end if;
                -- A backslash escape, as in C: \" \\ \' \? \a \b \f \n \r \t \v, \xHH, \uHHHH,
                -- \UHHHHHHHH and three octal digits \ooo.
                v_escape := v_pos;
                v_char := substr(_parse_filter.filter, v_pos + 1, 1);
                v_code := null;
                if v_char in ('"', '\', '''', '?') then
                    v_value := v_value || v_char;
                    v_pos := v_pos + 2;
                elsif v_char in ('a', 'b', 'f', 'n', 'r', 't', 'v') then
                    v_value := v_value || chr(case v_char when 'a' then 7 when 'b' then 8 when 'f' then 12
                        when 'n' then 10 when 'r' then 13 when 't' then 9 else 11 end);
                    v_pos := v_pos + 2;
                elsif v_char in ('x', 'u', 'U') then
                    v_width := case v_char when 'x' then 2 when 'u' then 4 else 8 end;
                    v_digits := substring(substr(_parse_filter.filter, v_pos + 2, v_width) from '^[0-9A-Fa-f]+$');
                    if char_length(v_digits) = v_width then
                        v_code := ('x' || lpad(v_digits, 8, '0'))::bit(32)::integer;
                        v_pos := v_pos + 2 + char_length(v_digits);
                    end if;
                elsif v_char ~ '^[0-3]$' and substr(_parse_filter.filter, v_pos + 2, 2) ~ '^[0-7]{2}$' then
                    v_digits := substr(_parse_filter.filter, v_pos + 1, 3);
                    v_code := substr(v_digits, 1, 1)::integer * 64 + substr(v_digits, 2, 1)::integer * 8
                        + substr(v_digits, 3, 1)::integer;
                    v_pos := v_pos + 4;
                else
                    raise exception using errcode = 'invalid_parameter_value',
                        message = format('filter: invalid escape sequence "\%s" at position %s: write \\ for a backslash', v_char, v_pos);
                end if;
                if v_char in ('x', 'u', 'U') or v_char ~ '^[0-3]$' then
                    if v_code is null then
                        raise exception using errcode = 'invalid_parameter_value',
                            message = format('filter: invalid escape sequence at position %s: \x takes 2 hexadecimal digits, \u 4, \U 8',
                                v_escape);
                    end if;
                    -- What chr() refuses, refused first with the position: PostgreSQL text (UTF-8,
                    -- the only encoding db-migrate's files load into) holds neither NUL nor lone
                    -- surrogates nor anything past U+10FFFF; \U80000000 and above read as negative
                    -- integers (32 bits, signed).
                    if v_code <= 0 or v_code between 55296 and 57343 or v_code > 1114111 then
                        raise exception using errcode = 'invalid_parameter_value',
                            message = format('filter: escape sequence at position %s is not a character text can hold', v_escape);
                    end if;
                    v_value := v_value || chr(v_code);
                end if;
            end loop;
            v_kinds := v_kinds || 'string'::text;
            v_values := v_values || v_value;
        elsif v_kinds[cardinality(v_kinds)] in ('.', ':') and v_char ~ '[A-Za-z0-9_-]' then
            v_value := substring(substr(_parse_filter.filter, v_pos) from '^[A-Za-z0-9_-]+');
            v_pos := v_pos + char_length(v_value);
            v_kinds := v_kinds || 'key'::text;
            v_values := v_values || v_value;
        elsif v_char ~ '[A-Za-z_]' then
            v_value := substring(substr(_parse_filter.filter, v_pos) from '^[A-Za-z0-9_]+');
            v_pos := v_pos + char_length(v_value);
            v_kinds := v_kinds || 'word'::text;
            v_values := v_values || v_value;
        elsif v_char in ('(', ')', ',', '.', ':', '=', '-') then
            v_pos := v_pos + 1;
            v_kinds := v_kinds || v_char;
            v_values := v_values || v_char;
        elsif v_char = '!' and substr(_parse_filter.filter, v_pos + 1, 1) = '=' then
            v_pos := v_pos + 2;
            v_kinds := v_kinds || '!='::text;
            v_values := v_values || '!='::text;
        else
            raise exception using errcode = 'invalid_parameter_value',
                message = format('filter: unexpected character "%s" at position %s', v_char, v_pos);
        end if;
        v_found := v_found || case v_kinds[cardinality(v_kinds)]
            when 'string' then 'the string ' || substr(_parse_filter.filter, v_start, v_pos - v_start)
            else '"' || substr(_parse_filter.filter, v_start, v_pos - v_start) || '"' end;
        v_positions := v_positions || v_start;
    end loop;
    v_kinds := v_kinds || 'end'::text;
    v_values := v_values || null::text;
    v_found := v_found || 'the end of the filter'::text;
    v_positions := v_positions || (v_length + 1);

    v_result := fastqueue._parse_filter_expression(v_kinds, v_values, v_found, v_positions, 1);
    if v_kinds[v_result.next] = ')' then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('filter: unexpected ")" at position %s: no "(" to close', v_positions[v_result.next]);
    elsif v_kinds[v_result.next] <> 'end' then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('filter: expected AND, OR or the end of the filter at position %s, found %s%s',
                v_positions[v_result.next], v_found[v_result.next],
                case when upper(v_values[v_result.next]) in ('AND', 'OR', 'NOT')
                     then ' (AND, OR and NOT are written in upper case)' else '' end);
    end if;
    return v_result.ast;
end;
$$;

comment on function fastqueue._parse_filter(text) is
'Internal: parses a queue''s filter expression (Pub/Sub''s syntax) into the jsonb tree that _expression_matches evaluates; null (or an empty string) gives null.
Grammar: filter = term {AND term} | term {OR term} (AND and OR mix only through parentheses); term = {NOT | -} ( attributes.KEY = "v" | attributes.KEY != "v" | attributes:KEY | hasPrefix(attributes.KEY, "p") | "(" filter ")" ). KEY is letters, digits, "_" and "-", or a string; strings are in double quotes with C-style backslash escapes; AND, OR and NOT are upper case.
Tree: {"op": "eq"|"ne"|"prefix", "key", "value"}, {"op": "has", "key"}, {"op": "not", "arg"}, {"op": "and"|"or", "args": [...]}.
Errors: 22023 with the 1-based position of the fault (e.g. filter: expected "=" or "!=" after attributes.event at position 18, found ...), or the length rule for more than 256 characters.';

revoke execute on function fastqueue._parse_filter(text) from public;

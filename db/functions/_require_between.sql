create or replace function fastqueue._require_between(name text, value integer, low integer, high integer)
returns integer
language plpgsql
immutable
as $$
begin
    if value is null or value < low or value > high then
        raise exception using errcode = 'invalid_parameter_value',
            message = case when high = 2147483647 then format('%s must be %s or more', name, low)
                           else format('%s must be between %s and %s', name, low, high) end,
            detail = format('%s was %s.', name, coalesce(value::text, 'null'));
    end if;
    -- The value, not void: a caller can assign it (v := _require_between(...)), which PL/pgSQL
    -- evaluates without starting a query executor as PERFORM would.
    return value;
end;
$$;

comment on function fastqueue._require_between(text, integer, integer, integer) is
'Internal: error 22023 "<name> must be between <low> and <high>" unless low <= value <= high (2147483647 as high means no upper bound); returns the value.';

revoke execute on function fastqueue._require_between(text, integer, integer, integer) from public;

create or replace function fastqueue._require_between(name text, value integer, allowed int4range)
returns void
language plpgsql
immutable
as $$
begin
    if value is null or not value <@ allowed then
        raise exception using errcode = 'invalid_parameter_value',
            message = case when upper_inf(allowed) then format('%s must be %s or more', name, lower(allowed))
                           else format('%s must be between %s and %s', name, lower(allowed), upper(allowed) - 1) end,
            detail = format('%s was %s.', name, coalesce(value::text, 'null'));
    end if;
end;
$$;

comment on function fastqueue._require_between(text, integer, int4range) is
'Internal: error 22023 "<name> must be between <low> and <high>" (or "<name> must be <low> or more" for a range without an upper bound) unless value lies in allowed, an integer range with a lower bound such as int4range(1, 1000, ''[]'') or fastqueue._allowed(''batch_size'').';

revoke execute on function fastqueue._require_between(text, integer, int4range) from public;

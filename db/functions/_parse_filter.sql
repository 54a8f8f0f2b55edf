create or replace function fastqueue._parse_filter(filter text)
returns jsonb
language plpgsql
immutable
as $$
begin
    if filter is null then
        return null;
    end if;
    -- The parser of Pub/Sub-style filter expressions lands with the publisher features.
    raise exception using errcode = 'feature_not_supported',
        message = 'filter expressions are not supported yet: use message_filters';
end;
$$;

comment on function fastqueue._parse_filter(text) is
'Internal: parses a queue''s filter expression into the form publish() evaluates (null for null).';

revoke execute on function fastqueue._parse_filter(text) from public;

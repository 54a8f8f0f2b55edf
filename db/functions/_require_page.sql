create or replace function fastqueue._require_page("offset" integer, "limit" integer)
returns void
language plpgsql
immutable
as $$
begin
    -- A page of list_queues or list_topics: any offset, limit 1..1000.
    perform fastqueue._require_between('offset', _require_page."offset", int4range(0, null));
    perform fastqueue._require_between('limit', _require_page."limit", fastqueue._allowed('batch_size'));
end;
$$;

comment on function fastqueue._require_page(integer, integer) is
'Internal: error 22023 unless offset is 0 or more and limit 1..1000 (a page of list_queues, list_topics).';

revoke execute on function fastqueue._require_page(integer, integer) from public;

create or replace function fastqueue.list_topics("offset" integer default 0, "limit" integer default 10)
returns setof fastqueue.topics
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform fastqueue._require_page(list_topics."offset", list_topics."limit");
    return query
        select * from fastqueue.topics t
         order by t.id
        offset list_topics."offset" limit list_topics."limit";
end;
$$;

comment on function fastqueue.list_topics(integer, integer) is
'Lists topics ordered by id, one page at a time.
offset: topics to skip (0 or more); limit: page size, 1 to 1000 (default 10).
Errors: 22023 when offset or limit is out of range.
Example: select * from fastqueue.list_topics("limit" => 50);';

revoke execute on function fastqueue.list_topics(integer, integer) from public;
grant execute on function fastqueue.list_topics(integer, integer) to fastqueue_admin;

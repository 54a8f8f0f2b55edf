create or replace function fastqueue.list_queues("offset" integer default 0, "limit" integer default 10)
returns setof fastqueue.queue_settings
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform fastqueue._require_page(list_queues."offset", list_queues."limit");
    return query
        select * from fastqueue.queue_settings q
         order by q.id
        offset list_queues."offset" limit list_queues."limit";
end;
$$;

comment on function fastqueue.list_queues(integer, integer) is
'Lists queues ordered by id, one page at a time.
offset: queues to skip (0 or more); limit: page size, 1 to 1000 (default 10).
Errors: 22023 when offset or limit is out of range.
Example: select id, topic_id from fastqueue.list_queues("limit" => 100);';

revoke execute on function fastqueue.list_queues(integer, integer) from public;
grant execute on function fastqueue.list_queues(integer, integer) to fastqueue_admin;

create or replace function fastqueue._not_found(kind text, id text)
returns void
language plpgsql
as $$
begin
    -- "Queue not found" / "Topic not found": the sentence and the SQLSTATE the gateway maps to 404.
    raise exception using errcode = 'no_data_found', message = format('%s not found', kind),
        detail = format('No %s has id %L.', lower(kind), id);
end;
$$;

comment on function fastqueue._not_found(text, text) is
'Internal: raises error P0002 "<kind> not found" (kind: Queue or Topic) with the id in the detail. _queue and _topic raise it.';

revoke execute on function fastqueue._not_found(text, text) from public;

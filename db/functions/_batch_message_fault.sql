create or replace function fastqueue._batch_message_fault(item jsonb, max_message_bytes bigint)
returns text
language sql
immutable
parallel safe
as $$
    -- One element of publish_batch's messages array: first its JSON shape (an object of known
    -- fields of the right JSON types), then _message_fault's rules. Null when it keeps them all,
    -- else the name of the first rule broken (_raise_message_fault has the sentences). One
    -- expression, so publish_batch checks a whole batch in one statement.
    select case
        when jsonb_typeof(item) <> 'object' then 'item'
        when item - array['data', 'attributes', 'delay_seconds', 'deduplication_id', 'ordering_key'] <> '{}'::jsonb
            then 'item_fields'
        -- delay_seconds is checked here, as a JSON number (a cast of 1e20 to integer would fail).
        when coalesce(jsonb_typeof(item -> 'delay_seconds'), 'null') not in ('null', 'number') then 'delay_seconds'
        when jsonb_typeof(item -> 'delay_seconds') = 'number'
             and not ((item ->> 'delay_seconds')::numeric = trunc((item ->> 'delay_seconds')::numeric)
                      and (item ->> 'delay_seconds')::numeric between lower(fastqueue._allowed('delay_seconds'))
                                                                  and upper(fastqueue._allowed('delay_seconds')) - 1)
            then 'delay_seconds'
        when coalesce(jsonb_typeof(item -> 'deduplication_id'), 'null') not in ('null', 'string') then 'deduplication_id_type'
        when coalesce(jsonb_typeof(item -> 'ordering_key'), 'null') not in ('null', 'string') then 'ordering_key_type'
        else fastqueue._message_fault(item -> 'data', nullif(item -> 'attributes', 'null'::jsonb), null,
                                      item ->> 'deduplication_id', item ->> 'ordering_key', max_message_bytes)
    end
$$;

comment on function fastqueue._batch_message_fault(jsonb, bigint) is
'Internal: the first rule that one element of publish_batch''s messages array breaks, by name, or null when it keeps them all: item (a JSON object), item_fields (only data, attributes, delay_seconds, deduplication_id, ordering_key), delay_seconds (null or a whole JSON number 0..900), deduplication_id_type and ordering_key_type (null or a string), then _message_fault''s rules for a size limit of max_message_bytes. _raise_message_fault raises the error that names it.';

revoke execute on function fastqueue._batch_message_fault(jsonb, bigint) from public;

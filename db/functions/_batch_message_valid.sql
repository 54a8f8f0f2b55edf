create or replace function fastqueue._batch_message_valid(item jsonb, max_message_bytes bigint)
returns boolean
language sql
immutable
parallel safe
as $$
    -- True exactly when _check_batch_message(item, ...) would pass with this size limit: one
    -- expression, so publish_batch checks a whole batch in one statement and runs the per-message
    -- check (which names the fault) only for a batch that has one. db/tests/publish_batch_check.sql
    -- holds the two to the same answers.
    -- CASE, not AND, wherever a later test would fail on the wrong JSON type: AND does not promise
    -- an order of evaluation.
    select case when jsonb_typeof(item) <> 'object' then false
                else item - array['data', 'attributes', 'delay_seconds', 'deduplication_id', 'ordering_key'] = '{}'::jsonb
                     -- The JSON types of the fields. delay_seconds is checked here, as a JSON number (a
                     -- cast of 1e20 to integer would fail), and passed on as null.
                     and case coalesce(jsonb_typeof(item -> 'delay_seconds'), 'null')
                             when 'null' then true
                             when 'number' then (item ->> 'delay_seconds')::numeric between 0 and 900
                                                and (item ->> 'delay_seconds')::numeric = trunc((item ->> 'delay_seconds')::numeric)
                             else false end
                     and coalesce(jsonb_typeof(item -> 'deduplication_id'), 'null') in ('null', 'string')
                     and coalesce(jsonb_typeof(item -> 'ordering_key'), 'null') in ('null', 'string')
                     -- Then the rules of every message, as publish() checks them.
                     and fastqueue._message_valid(item -> 'data', nullif(item -> 'attributes', 'null'::jsonb), null,
                                                  item ->> 'deduplication_id', item ->> 'ordering_key',
                                                  max_message_bytes)
           end
$$;

comment on function fastqueue._batch_message_valid(jsonb, bigint) is
'Internal: whether one element of publish_batch''s messages array keeps every rule (the same answer as _check_batch_message, without the error), for a size limit of max_message_bytes (true or false, never null for a non-null item).';

revoke execute on function fastqueue._batch_message_valid(jsonb, bigint) from public;

create or replace function fastqueue._check_batch_message(item jsonb, label text)
returns void
language plpgsql
stable
as $$
declare
    v_delay jsonb := nullif(_check_batch_message.item -> 'delay_seconds', 'null'::jsonb);
    v_field text;
begin
    if jsonb_typeof(_check_batch_message.item) <> 'object' then
        raise exception using errcode = 'invalid_parameter_value',
            message = label || ': must be a JSON object with data (and optionally attributes, delay_seconds, deduplication_id, ordering_key)';
    end if;
    if exists (select from jsonb_object_keys(_check_batch_message.item) k
                where k not in ('data', 'attributes', 'delay_seconds', 'deduplication_id', 'ordering_key')) then
        raise exception using errcode = 'invalid_parameter_value',
            message = label || ': unknown field; a message has data, attributes, delay_seconds, deduplication_id and ordering_key',
            detail = format('Fields given: %s.', (select string_agg(k, ', ') from jsonb_object_keys(_check_batch_message.item) k));
    end if;
    if v_delay is not null and (jsonb_typeof(v_delay) <> 'number' or v_delay::text::numeric not between 0 and 900
                                or v_delay::text::numeric <> trunc(v_delay::text::numeric)) then
        raise exception using errcode = 'invalid_parameter_value',
            message = label || ': delay_seconds must be null or between 0 and 900',
            detail = format('delay_seconds was %s.', v_delay);
    end if;
    foreach v_field in array array['deduplication_id', 'ordering_key'] loop
        if jsonb_typeof(_check_batch_message.item -> v_field) not in ('string', 'null') then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('%s: %s must be null or a string of 1 to 128 characters', label, v_field);
        end if;
    end loop;
    perform fastqueue._check_message(
        _check_batch_message.item -> 'data',
        nullif(_check_batch_message.item -> 'attributes', 'null'::jsonb),
        (v_delay::text::numeric)::integer,
        _check_batch_message.item ->> 'deduplication_id',
        _check_batch_message.item ->> 'ordering_key',
        label);
end;
$$;

comment on function fastqueue._check_batch_message(jsonb, text) is
'Internal: the rules of one element of publish_batch''s messages array (a JSON object of data, attributes, delay_seconds, deduplication_id, ordering_key, then _check_message''s rules), raising 22023 or 54000 with label ("messages[3]") in front. _batch_message_valid answers the same question without the error, for a whole batch at once.';

revoke execute on function fastqueue._check_batch_message(jsonb, text) from public;

create or replace function fastqueue._allowed(rule text)
returns int4range
language plpgsql
immutable
parallel safe
as $$
begin
    -- The one place each of these ranges is written; the functions that check them and the
    -- sentences that name them read it from here. (A queue's settings have theirs in the CHECK
    -- constraints of fastqueue.queues, each one place too.)
    case _allowed.rule
        -- A message's own delay (publish, publish_batch, send) and a nack's.
        when 'delay_seconds' then return int4range(0, 900, '[]');
        -- How many messages or ids one call takes, and a page of list_queues / list_topics.
        when 'batch_size' then return int4range(1, 1000, '[]');
        else
            raise exception using errcode = 'invalid_parameter_value',
                message = format('no allowed range is defined for %L', _allowed.rule);
    end case;
end;
$$;

comment on function fastqueue._allowed(text) is
'Internal: the allowed range of a value that several functions check, by its name: delay_seconds 0..900 (a message''s delay, a nack''s), batch_size 1..1000 (messages or ids in one call, a page of a list). Immutable, so a call with a constant name is folded when its caller is planned.';

revoke execute on function fastqueue._allowed(text) from public;

create or replace function fastqueue._earlier_of_key_pending(
    queue_id text,
    delivery_limit integer,
    ordering_key text,
    ordering_sequence bigint
)
returns boolean
language plpgsql
stable
as $$
begin
    -- Existence, not availability, is what holds a keyed message back: an earlier message with its
    -- key that is leased, delayed, or locked by a consumer leasing it right now. Only one that can
    -- never be delivered again (expired, or over-delivered with its lease ended: cleanup moves it)
    -- no longer counts.
    return exists (
        select
          from fastqueue.deliveries p
         where p.queue_id = _earlier_of_key_pending.queue_id
           and p.ordering_key = _earlier_of_key_pending.ordering_key
           and p.ordering_sequence < _earlier_of_key_pending.ordering_sequence
           and p.expired_at > now()
           and (p.delivery_attempts < _earlier_of_key_pending.delivery_limit or p.scheduled_at > now()));
end;
$$;

comment on function fastqueue._earlier_of_key_pending(text, integer, text, bigint) is
'Internal: whether the queue still holds an earlier message with this ordering key that keeps the given one from being leased (consume on a queue with enable_message_ordering). PL/pgSQL on purpose, so it is not inlined: its query, and the lock on the two partial ordering-key indexes it takes, are paid only when a keyed message of an ordered queue is a candidate, not by every consume (a consume of an unordered queue then locks 14 relations, inside PostgreSQL''s 16 fast-path lock slots; docs/storage.md).';

-- No SECURITY DEFINER or SET clause: it runs inside consume, with consume's search_path.
revoke execute on function fastqueue._earlier_of_key_pending(text, integer, text, bigint) from public;

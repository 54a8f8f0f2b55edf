create or replace function fastqueue.peek(queue_id text, max_messages integer default 10)
returns setof fastqueue.messages
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(peek.queue_id);
    v_max_bytes bigint := fastqueue._max_response_bytes();
begin
    perform fastqueue._require_between('max_messages', peek.max_messages, fastqueue._allowed('batch_size'));
    -- A look, not a lease: a plain read (no FOR UPDATE, so it neither waits for nor blocks a
    -- consumer), and STABLE, so it cannot write. Every stored message counts, whatever its state,
    -- in consume's order: by scheduled_at, then publish order (ordering_sequence) among messages due
    -- at the same moment, then id so that repeated peeks agree.
    -- Bounded as consume is: with fastqueue.max_response_bytes set, the first messages whose answer
    -- fits in it, and always the first.
    return query
        select p.id, p.queue_id, b.data, b.attributes, p.delivery_attempts, p.expired_at, p.scheduled_at,
               p.created_at, p.updated_at, p.ordering_key, p.ordering_sequence
          from (
            select l.*,
                   row_number() over w as n,
                   sum(case when v_max_bytes is null then 0
                            else fastqueue._answer_bytes(v_queue.id,
                                                         (select mb.size_bytes
                                                            from fastqueue.message_bodies mb
                                                           where mb.slot = l.slot and mb.id = l.body_id),
                                                         l.ordering_key) end)
                     over w as answer_bytes
              from (
                select d.*
                  from fastqueue.deliveries d
                 where d.queue_id = v_queue.id
                 order by d.scheduled_at, d.ordering_sequence nulls last, d.id
                 limit peek.max_messages) l
            window w as (order by l.scheduled_at, l.ordering_sequence nulls last, l.id
                         rows between unbounded preceding and current row)) p
         -- The payload of the messages shown only: one index probe on (slot, id) each.
         cross join lateral (select mb.data, mb.attributes
                               from fastqueue.message_bodies mb
                              where mb.slot = p.slot and mb.id = p.body_id
                              limit 1) b
         where p.n = 1 or v_max_bytes is null or p.answer_bytes <= v_max_bytes
         order by p.n;
end;
$$;

comment on function fastqueue.peek(text, integer) is
'Returns up to max_messages (1..1000, default 10) of a queue''s messages without leasing them: delivery_attempts, scheduled_at and every other column stay as they are, and no row is locked. Every state is shown: available, in flight (scheduled_at is when the lease ends), delayed, and expired or over-delivered ones cleanup() has not removed yet; ordered as consume would reach them, by scheduled_at (then publish order, then id). With the setting fastqueue.max_response_bytes (as consume) only the first messages whose answer fits in that many bytes, always at least one.
Errors: P0002 "Queue not found"; 22023 when max_messages is out of range.
Example: select id, delivery_attempts, scheduled_at, data from fastqueue.peek(''all-events'', 20);';

revoke execute on function fastqueue.peek(text, integer) from public;
grant execute on function fastqueue.peek(text, integer) to fastqueue_admin;

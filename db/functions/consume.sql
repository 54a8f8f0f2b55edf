create or replace function fastqueue.consume(queue_id text, max_messages integer default 10,
                                             ack_message_ids uuid[] default null)
returns setof fastqueue.messages
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
-- One generic plan for the session: a custom plan per call (what the plan cache picks here) costs
-- more to plan than the lease itself costs to run. A generic plan guesses a tenth of the queue for
-- LIMIT max_messages, a cost that would have every call JIT-compiled: no JIT.
set plan_cache_mode = force_generic_plan
set jit = off
as $$
declare
    v_queue fastqueue.queues := fastqueue._queue(consume.queue_id);
    v_max_bytes bigint := fastqueue._max_response_bytes();
    v_ids uuid[];
    v_ack_count integer := coalesce(cardinality(consume.ack_message_ids), 0);
begin
    -- Every argument is checked before anything is acked or leased.
    perform fastqueue._require_between('max_messages', consume.max_messages, fastqueue._allowed('batch_size'));
    if v_ack_count > 0 then
        perform fastqueue._require_between('the number of ack_message_ids', v_ack_count, fastqueue._allowed('batch_size'));
        -- Ack first, in statements before the lease's: the lease's snapshot then sees the acked
        -- messages gone (none of them is leased again) and the next message of an ordering key
        -- that an ack freed. Only this queue's messages are acked; other ids are ignored.
        perform fastqueue._delete_messages(consume.ack_message_ids, v_queue.id);
    end if;
    -- Lease: the oldest available messages, skipping rows another consumer is leasing this very
    -- moment; each lease counts a delivery and hides the message until its ack deadline. Both slots
    -- at once: a Merge Append of their (queue_id, scheduled_at) indexes under the row locks.
    -- With fastqueue.max_response_bytes set (the gateway sets it), only the oldest of them whose
    -- answer fits in it are leased, and always the first: the rows locked beyond it are left as
    -- they are (their locks end with this transaction), never leased and then dropped. A row's
    -- size is its body's size_bytes, looked up by (slot, id) only when there is a bound.
    select array_agg(s.id order by s.scheduled_at, s.id)
      into v_ids
      from (
        select c.id, c.scheduled_at,
               row_number() over w as n,
               sum(case when v_max_bytes is null then 0
                        else fastqueue._answer_bytes(v_queue.id,
                                                     (select b.size_bytes
                                                        from fastqueue.message_bodies b
                                                       where b.slot = c.slot and b.id = c.body_id),
                                                     c.ordering_key) end) over w
                 as answer_bytes
          from (
        select d.id, d.slot, d.body_id, d.scheduled_at, d.ordering_key
          from fastqueue.deliveries d
         where d.queue_id = v_queue.id
           and fastqueue._is_available(d.scheduled_at, d.expired_at, d.delivery_attempts,
                                       fastqueue._delivery_limit(v_queue))
           -- Ordered delivery: a keyed message waits while an earlier message with its key is
           -- still in the queue, until it is acked or can never be delivered again.
           and (not v_queue.enable_message_ordering
                or d.ordering_key is null
                or not fastqueue._earlier_of_key_pending(v_queue.id, fastqueue._delivery_limit(v_queue),
                                                         d.ordering_key, d.ordering_sequence))
         order by d.scheduled_at
         limit consume.max_messages
           for update skip locked) c
        window w as (order by c.scheduled_at, c.id rows between unbounded preceding and current row)) s
     where s.n = 1 or v_max_bytes is null or s.answer_bytes <= v_max_bytes;
    if v_ids is null then
        return;
    end if;
    -- The rows just locked, by id (a locked row cannot change meanwhile), returned in the order they
    -- were chosen (oldest first), each with its body's payload: one index probe on (slot, id) per
    -- row, never a join the generic plan could make a sort or hash of the whole body table.
    return query
        with leased as (
            update fastqueue.deliveries d
               set delivery_attempts = d.delivery_attempts + 1,
                   scheduled_at = now() + v_queue.ack_deadline_seconds * interval '1 second',
                   updated_at = now()
             where d.id = any (v_ids)
               and d.queue_id = v_queue.id
            returning d.*
        )
        select l.id, l.queue_id, b.data, b.attributes, l.delivery_attempts, l.expired_at, l.scheduled_at,
               l.created_at, l.updated_at, l.ordering_key, l.ordering_sequence
          from leased l
         cross join lateral (select mb.data, mb.attributes
                               from fastqueue.message_bodies mb
                              where mb.slot = l.slot and mb.id = l.body_id
                              limit 1) b
         order by array_position(v_ids, l.id);
end;
$$;

comment on function fastqueue.consume(text, integer, uuid[]) is
'Leases up to max_messages (1..1000, default 10) available messages of a queue, oldest scheduled first, and returns them. Each lease adds 1 to delivery_attempts and hides the message for the queue''s ack_deadline_seconds: ack() it when done, nack() it to retry now, or it comes back by itself after the deadline. Concurrent consumers never get the same message within a lease (FOR UPDATE SKIP LOCKED). Never returns expired messages, nor, on a queue with a dead queue, messages already delivered message_max_deliveries times. On a queue with enable_message_ordering, messages that share an ordering_key are leased one at a time in publish order: the next only once the previous is acked (or expired, or dead-lettered); other keys and unkeyed messages are not held up.
ack_message_ids (optional, up to 1000): first acks (deletes) those of these messages that belong to this queue, as ack_messages() would (ids of other queues and unknown ids are ignored, not errors; a message another transaction changes meanwhile is waited for and acked), then leases, in the same transaction: one call and one commit per cycle. An acked message is never returned, and the next message of an ordering key whose head was acked can be leased by this very call. Null or empty: nothing is acked.
With the setting fastqueue.max_response_bytes (the gateway sets it from FASTQUEUE_MAX_RESPONSE_BYTES, 10 MiB by default; unset, no bound) it leases only the oldest messages whose answer fits in that many bytes (data and attributes as JSON text plus 256 bytes and the ids each), and always at least one: what does not fit stays available, undelivered.
Errors: P0002 "Queue not found"; 22023 when max_messages is out of range, ack_message_ids holds more than 1000 ids, or fastqueue.max_response_bytes is not a whole number of bytes (then nothing is acked or leased).
Examples: select id, data, delivery_attempts from fastqueue.consume(''all-events'', 10);
select id, data from fastqueue.consume(''all-events'', 1, ack_message_ids => array[''671cfac2-252c-4c22-9abc-28809a4f9fe8'']::uuid[]);';

revoke execute on function fastqueue.consume(text, integer, uuid[]) from public;
grant execute on function fastqueue.consume(text, integer, uuid[]) to fastqueue_consumer, fastqueue_admin;

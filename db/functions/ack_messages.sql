create or replace function fastqueue.ack_messages(message_ids uuid[])
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_acked integer;
    v_unblocked_queue_ids text[];
    v_row_ids tid[];
begin
    -- An assignment, not PERFORM: PERFORM runs a query. (v_acked is set again below.)
    v_acked := fastqueue._require_between('the number of message_ids', cardinality(ack_messages.message_ids), 1, 1000);
    -- Rows are locked in id order, so two overlapping batches wait for each other instead of
    -- deadlocking. Then, in a statement of its own, they are deleted by physical address (a TID
    -- scan: no second index descent per row; a locked row cannot move). Not in one statement: a
    -- row another transaction updated while this one waited is locked in its new version, which
    -- only a later statement's snapshot can see (READ COMMITTED).
    select array_agg(l.ctid)
      into v_row_ids
      from (select m.ctid
              from fastqueue.messages m
             where m.id = any (ack_messages.message_ids)
             order by m.id
               for update) l;
    with acked as (
        delete from fastqueue.messages m
         where m.ctid = any (v_row_ids)
        returning m.queue_id, m.ordering_key
    )
    select count(*), array_agg(distinct a.queue_id) filter (where a.ordering_key is not null)
      into v_acked, v_unblocked_queue_ids
      from acked a;
    -- Acking a message with an ordering key may let the next message of that key be leased now.
    perform fastqueue._notify_available(q.queue_id) from unnest(v_unblocked_queue_ids) as q (queue_id);
    return v_acked;
end;
$$;

comment on function fastqueue.ack_messages(uuid[]) is
'Acknowledges 1 to 1000 messages at once, in one transaction: each is deleted as by ack(), also one that another transaction changes meanwhile (the call waits for it, then deletes it). Returns how many were deleted; ids of messages that no longer exist (or repeated ids) are not counted, and are not errors.
Errors: 22023 when message_ids is null, empty or longer than 1000.
Example: select fastqueue.ack_messages(array[''671cfac2-252c-4c22-9abc-28809a4f9fe8'', ''0b6d1a8e-58e4-4d4c-9f5e-2f7c1d9e3a10'']::uuid[]);';

revoke execute on function fastqueue.ack_messages(uuid[]) from public;
grant execute on function fastqueue.ack_messages(uuid[]) to fastqueue_consumer, fastqueue_admin;

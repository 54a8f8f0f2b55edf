create or replace function fastqueue._delete_messages(message_ids uuid[], queue_id text)
returns integer
language plpgsql
as $$
declare
    v_deleted integer;
    v_unblocked_queue_ids text[];
    v_locked_ids uuid[];
begin
    -- Rows are locked in id order, so two overlapping calls wait for each other instead of
    -- deadlocking. Then, in a statement of its own, the locked rows are deleted by id. Not in one
    -- statement: a row another transaction updated while this one waited is locked in its new
    -- version, which only a later statement's snapshot can see (READ COMMITTED). A message moved
    -- meanwhile (a new id) no longer matches and is left alone.
    select array_agg(l.id)
      into v_locked_ids
      from (select d.id
              from fastqueue.deliveries d
             where d.id = any (_delete_messages.message_ids)
               and (_delete_messages.queue_id is null or d.queue_id = _delete_messages.queue_id)
             order by d.id
               for update) l;
    if v_locked_ids is null then
        return 0;
    end if;
    with deleted as (
        delete from fastqueue.deliveries d
         where d.id = any (v_locked_ids)
        returning d.queue_id, d.ordering_key
    )
    select count(*), array_agg(distinct x.queue_id) filter (where x.ordering_key is not null)
      into v_deleted, v_unblocked_queue_ids
      from deleted x;
    -- Acking a message with an ordering key may let the next message of that key be leased now.
    perform fastqueue._notify_available(q.queue_id) from unnest(v_unblocked_queue_ids) as q (queue_id);
    return v_deleted;
end;
$$;

comment on function fastqueue._delete_messages(uuid[], text) is
'Internal: acks (deletes) the messages with these ids, of this queue only (null: of any queue), also one that another transaction changes meanwhile (it waits for it, then deletes it); rows are locked in id order, so overlapping calls do not deadlock. Returns how many were deleted; unknown or repeated ids are not counted. Notifies the long-polling consumers of queues where a keyed message was deleted. Used by ack_messages and consume.';

revoke execute on function fastqueue._delete_messages(uuid[], text) from public;

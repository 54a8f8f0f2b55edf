create or replace function fastqueue.ack_messages(message_ids uuid[])
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    perform fastqueue._require_between('the number of message_ids', cardinality(ack_messages.message_ids),
                                       fastqueue._allowed('batch_size'));
    -- Locked in id order, then deleted in a statement of their own (see _delete_messages).
    return fastqueue._delete_messages(ack_messages.message_ids, null);
end;
$$;

comment on function fastqueue.ack_messages(uuid[]) is
'Acknowledges 1 to 1000 messages at once, in one transaction: each is deleted as by ack(), also one that another transaction changes meanwhile (the call waits for it, then deletes it). Returns how many were deleted; ids of messages that no longer exist (or repeated ids) are not counted, and are not errors.
Errors: 22023 when message_ids is null, empty or longer than 1000.
Example: select fastqueue.ack_messages(array[''671cfac2-252c-4c22-9abc-28809a4f9fe8'', ''0b6d1a8e-58e4-4d4c-9f5e-2f7c1d9e3a10'']::uuid[]);';

revoke execute on function fastqueue.ack_messages(uuid[]) from public;
grant execute on function fastqueue.ack_messages(uuid[]) to fastqueue_consumer, fastqueue_admin;

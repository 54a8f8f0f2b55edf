create or replace function fastqueue.ack(message_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    delete from fastqueue.messages m where m.id = ack.message_id;
    return found;
end;
$$;

comment on function fastqueue.ack(uuid) is
'Acknowledges a message: it was processed and is deleted. Returns false, not an error, when no such message exists (already acked, purged or expired).
Example: select fastqueue.ack(''671cfac2-252c-4c22-9abc-28809a4f9fe8'');';

revoke execute on function fastqueue.ack(uuid) from public;
grant execute on function fastqueue.ack(uuid) to fastqueue_consumer, fastqueue_admin;

create or replace function fastqueue.nack(message_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
    update fastqueue.messages m
       set scheduled_at = now(), updated_at = now()
     where m.id = nack.message_id;
    return found;
end;
$$;

comment on function fastqueue.nack(uuid) is
'Gives a leased message back: it is available again at once, for this or another consumer. Returns false when no such message exists.
Example: select fastqueue.nack(''671cfac2-252c-4c22-9abc-28809a4f9fe8'');';

revoke execute on function fastqueue.nack(uuid) from public;
grant execute on function fastqueue.nack(uuid) to fastqueue_consumer, fastqueue_admin;

create or replace function fastqueue.nack(message_id uuid)
returns boolean
language plpgsql
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

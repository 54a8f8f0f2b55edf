create or replace function fastqueue._write_message()
returns trigger
language plpgsql
as $$
declare
    v_slot smallint;
    v_body_id uuid;
    v_delivery fastqueue.deliveries;
begin
    -- fastqueue.messages is a view over deliveries and their bodies (docs/storage.md). The API
    -- functions write the tables themselves; this keeps an operator's (or a test's) SQL on the view
    -- working: an update or delete changes the delivery, an insert stores a body and a delivery.
    -- The view's columns are the delivery's own but data and attributes (the body's): a row of the
    -- view fills a delivery by column name, so no list of columns is written here.
    if tg_op = 'DELETE' then
        delete from fastqueue.deliveries d where d.id = old.id;
        if not found then
            return null;
        end if;
        return old;
    elsif tg_op = 'UPDATE' then
        if new.data is distinct from old.data or new.attributes is distinct from old.attributes then
            -- A body may be shared by the copies of a fan-out and is never updated in place.
            raise exception using errcode = 'feature_not_supported',
                message = 'data and attributes of a stored message cannot be changed',
                hint = 'Publish a new message instead.';
        end if;
        -- Replaced, in its slot and with its body: deleted and inserted with the new values.
        delete from fastqueue.deliveries d where d.id = old.id returning * into v_delivery;
        if not found then
            return null;
        end if;
        v_delivery := jsonb_populate_record(v_delivery, to_jsonb(new) - 'data' - 'attributes');
        insert into fastqueue.deliveries select (v_delivery).*;
        return new;
    end if;
    -- INSERT: the columns the old table had defaults for get the same defaults.
    v_slot := (select s.last_value from fastqueue.store_slot s);
    new.id := coalesce(new.id, fastqueue._new_message_id());
    new.delivery_attempts := coalesce(new.delivery_attempts, 0);
    new.created_at := coalesce(new.created_at, now());
    new.updated_at := coalesce(new.updated_at, now());
    insert into fastqueue.message_bodies (slot, data, attributes, size_bytes, created_at, ordering_key, ordering_sequence)
    values (v_slot, new.data, new.attributes,
            octet_length(new.data::text) + coalesce(octet_length(new.attributes::text), 0),
            new.created_at, new.ordering_key, new.ordering_sequence)
    returning id into v_body_id;
    v_delivery := jsonb_populate_record(null::fastqueue.deliveries, to_jsonb(new) - 'data' - 'attributes');
    v_delivery.slot := v_slot;
    v_delivery.body_id := v_body_id;
    insert into fastqueue.deliveries select (v_delivery).*;
    return new;
end;
$$;

comment on function fastqueue._write_message() is
'Internal trigger (messages_write, INSTEAD OF on the view fastqueue.messages): an UPDATE or DELETE of the view changes or deletes the delivery with that id (data and attributes cannot be changed: error 0A000); an INSERT stores a body and a delivery in the current slot, with the old table''s defaults (a new id, delivery_attempts 0, created_at and updated_at now()). For operators and tests; the API functions write deliveries and message_bodies themselves and check every rule first, this checks none.';

-- Not granted to anyone: a trigger does not need EXECUTE to fire.
revoke execute on function fastqueue._write_message() from public;

create or replace trigger messages_write
    instead of insert or update or delete on fastqueue.messages
    for each row execute function fastqueue._write_message();

-- Two changes for issue 15 (docs/storage.md).
-- consume gains a third parameter, ack_message_ids uuid[] (ack and lease in one call): its
-- two-parameter signature goes (db/functions/consume.sql recreates it with the new parameter;
-- positional calls with two arguments keep working through the defaults).
drop function if exists fastqueue.consume(text, integer);

-- New message ids are time-ordered: the first 48 bits are the Unix time in milliseconds, then the
-- version 7 nibble, then 74 random bits from gen_random_uuid() (RFC 9562's version 7 layout; still
-- type uuid). A new id then lands at the right edge of the primary key's B-tree instead of on a
-- random leaf page. PostgreSQL 15 has no uuidv7(), so this function makes them. It lives here, not in
-- db/functions/, because the column default depends on it: it is part of the table's definition, and
-- changes like one (by a new migration). A SQL function of one expression, so the planner inlines it.
create function fastqueue._new_message_id()
returns uuid
language sql
volatile
parallel safe
as $$
    -- gen_random_uuid()'s text from its 16th character is 3 random hex digits, "-", 4 digits (the
    -- variant and 14 random bits), "-", 12 random digits: what follows the version nibble. uuid's
    -- input takes a hyphen after any group of four digits.
    select (lpad(to_hex(floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7' || substr(gen_random_uuid()::text, 16))::uuid
$$;
comment on function fastqueue._new_message_id() is
'Internal: a new message id, time-ordered: the first 48 bits are the Unix time in milliseconds (clock_timestamp()), then version 7 and 74 random bits (the version 7 layout of RFC 9562). The default of fastqueue.messages.id; also used by moves (_move_messages), which give a moved message a new id.';
revoke execute on function fastqueue._new_message_id() from public;

alter table fastqueue.messages alter column id set default fastqueue._new_message_id();

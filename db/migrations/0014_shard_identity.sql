-- Sharding (issue 21, docs/sharding.md): a database that is one shard of a PL/Proxy router knows its
-- shard number, and the message ids it makes carry it, so the router routes ack(message_id) and the
-- other calls by message id without a lookup.
--
-- fastqueue.shard_identity holds at most one row, written by `fastqueue db-migrate` when it migrates
-- the shards of FASTQUEUE_SHARD_URLS. An unsharded database has no row and its ids are as before.
create table fastqueue.shard_identity (
    single_row boolean primary key default true,
    shard_number integer not null,
    shard_count integer not null,
    constraint shard_identity_single_row check (single_row),
    constraint shard_identity_shard_count check (shard_count between 1 and 4096 and shard_count & (shard_count - 1) = 0),
    constraint shard_identity_shard_number check (shard_number >= 0 and shard_number < shard_count)
);
comment on table fastqueue.shard_identity is
    'Sharding (docs/sharding.md): this database''s shard number among shard_count shards of a PL/Proxy router; no row on an unsharded database. Written by fastqueue db-migrate; new message ids carry shard_number.';

-- The id keeps the version 7 layout of migration 0008 (48 bits of Unix milliseconds, version 7,
-- variant); on a shard the first 12 random bits (the three hex digits after the version nibble, text
-- positions 16 to 18) are the shard number, leaving 62 random bits.
create or replace function fastqueue._new_message_id()
returns uuid
language sql
volatile
parallel safe
as $$
    -- gen_random_uuid()'s text: character 15 is its version nibble, 16 to 18 three random hex
    -- digits, then "-", the variant and 14 random bits, "-", 12 random digits.
    select (lpad(to_hex(floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 12, '0')
            || '7'
            || coalesce((select lpad(to_hex(s.shard_number), 3, '0') from fastqueue.shard_identity s),
                        substr(gen_random_uuid()::text, 16, 3))
            || substr(gen_random_uuid()::text, 19))::uuid
$$;
comment on function fastqueue._new_message_id() is
'Internal: a new message id, time-ordered: the first 48 bits are the Unix time in milliseconds (clock_timestamp()), then version 7, then on a shard the shard number in 12 bits (fastqueue.shard_identity; random bits on an unsharded database), then the variant and 62 random bits (the version 7 layout of RFC 9562). The default of fastqueue.deliveries.id and fastqueue.message_bodies.id; publish makes its ids with it, and moves (_move_messages) give a moved message a new one.';
revoke execute on function fastqueue._new_message_id() from public;

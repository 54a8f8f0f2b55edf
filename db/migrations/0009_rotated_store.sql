-- The rotated store of issue 15 (docs/storage.md, "Layout" and "Migration"): a message's payload is
-- stored once (message_bodies), with one small row of delivery state per queue it reached
-- (deliveries). Both tables are partitioned by list into two slots, so that rotation
-- (fastqueue.rotate_store, a later migration) can empty the slot that is not current with TRUNCATE
-- and carry its live rows forward. fastqueue.messages becomes a view with the table's columns, in
-- the same order, so every function that returns setof fastqueue.messages keeps its result type.

-- The current slot, where publishes insert: `select last_value from fastqueue.store_slot`.
-- Rotation moves it with setval(); nothing calls nextval().
create sequence fastqueue.store_slot as smallint minvalue 0 maxvalue 1 start 0 no cycle;
comment on sequence fastqueue.store_slot is
    'The store''s current slot (0 or 1): last_value is where publishes insert message bodies and deliveries. Set by rotation with setval().';

-- No foreign keys and no CHECKs on either table: every write goes through the API functions, which
-- check every rule first, and a foreign key from deliveries to bodies would make the TRUNCATE of one
-- slot need the other. No index on the parents: the planner locks every index of every table it
-- plans for, and a statement on both slots stays within PostgreSQL's 16 fast-path relation locks
-- only with the indexes below (docs/storage.md, Layout).
create table fastqueue.message_bodies (
    slot smallint not null,
    id uuid not null default fastqueue._new_message_id(),
    data jsonb not null,
    attributes jsonb,
    size_bytes integer not null,
    created_at timestamptz not null,
    ordering_key text,
    ordering_sequence bigint
) partition by list (slot);
comment on table fastqueue.message_bodies is
    'One row per published message that some queue took: its payload, stored once however many queues it reached. Never updated or deleted row by row: a slot''s bodies go with its rotation, the live ones carried forward.';
comment on column fastqueue.message_bodies.slot is 'Which child holds the row (0 or 1); the slot of its deliveries too.';
comment on column fastqueue.message_bodies.size_bytes is
    'data and attributes as JSON text, in bytes (what the size rule of publish measures).';
comment on column fastqueue.message_bodies.ordering_sequence is
    'Publish order among messages with an ordering_key, also within one transaction (from fastqueue.messages_ordering_sequence); one number per message, shared by its deliveries.';

create table fastqueue.message_bodies_0 partition of fastqueue.message_bodies for values in (0);
create table fastqueue.message_bodies_1 partition of fastqueue.message_bodies for values in (1);
create unique index message_bodies_0_id_idx on fastqueue.message_bodies_0 (id);
create unique index message_bodies_1_id_idx on fastqueue.message_bodies_1 (id);

create table fastqueue.deliveries (
    slot smallint not null,
    id uuid not null default fastqueue._new_message_id(),
    body_id uuid not null,
    queue_id text not null,
    delivery_attempts integer not null default 0,
    scheduled_at timestamptz not null,
    expired_at timestamptz not null,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    ordering_key text,
    ordering_sequence bigint
) partition by list (slot);
comment on table fastqueue.deliveries is
    'One row per message per queue: the message id of the API and its delivery state; the payload is its body (message_bodies, same slot, id body_id). scheduled_at is when it can next be leased; a lease moves it ack_deadline_seconds ahead; an ack deletes the row.';
comment on column fastqueue.deliveries.slot is 'Which child holds the row (0 or 1): always the slot of its body.';
comment on column fastqueue.deliveries.body_id is 'The id of its message_bodies row, in the same slot (no foreign key: see docs/storage.md).';
comment on column fastqueue.deliveries.scheduled_at is 'When the message can next be delivered: after its delivery delay, or when its current lease ends.';
comment on column fastqueue.deliveries.expired_at is 'After this the message is never delivered; rotation or cleanup() deletes it.';
comment on column fastqueue.deliveries.ordering_key is
    'On a queue with enable_message_ordering, messages that share it are delivered one at a time, in publish order (ordering_sequence). Copied from the body.';
comment on column fastqueue.deliveries.ordering_sequence is
    'Publish order among messages with an ordering_key (copied from the body).';

create table fastqueue.deliveries_0 partition of fastqueue.deliveries for values in (0);
create table fastqueue.deliveries_1 partition of fastqueue.deliveries for values in (1);
-- consume, peek, stats, redrive, dead-lettering, available_queues: one queue's rows in the order
-- they become available.
create index deliveries_0_queue_id_scheduled_at_idx on fastqueue.deliveries_0 (queue_id, scheduled_at);
create index deliveries_1_queue_id_scheduled_at_idx on fastqueue.deliveries_1 (queue_id, scheduled_at);
-- ack, nack, set_deadline, the acks of consume: by message id.
create unique index deliveries_0_id_idx on fastqueue.deliveries_0 (id);
create unique index deliveries_1_id_idx on fastqueue.deliveries_1 (id);
-- consume on an ordered queue: is there an earlier message with the same key in this queue?
create index deliveries_0_queue_id_ordering_key_idx on fastqueue.deliveries_0 (queue_id, ordering_key, ordering_sequence)
    where ordering_key is not null;
create index deliveries_1_queue_id_ordering_key_idx on fastqueue.deliveries_1 (queue_id, ordering_key, ordering_sequence)
    where ordering_key is not null;

-- As today's table: rows turn over all the time, so when rotation cannot run (a lock holder, a
-- backlog) vacuum goes by the number of dead rows and at full speed. Bodies are only inserted.
do $$
declare
    v_child text;
begin
    foreach v_child in array array['deliveries_0', 'deliveries_1', 'message_bodies_0', 'message_bodies_1'] loop
        execute format('alter table fastqueue.%I set (autovacuum_vacuum_scale_factor = 0,'
                       ' autovacuum_vacuum_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0,'
                       ' autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_cost_delay = 0)', v_child);
    end loop;
end;
$$;

-- Every message carried over into slot 0: a body per row (the copies of one fan-out cannot be told
-- apart reliably, so each keeps its own; the body takes the message's id, unique among bodies as
-- it was among messages) and a delivery with the same id, so leases in flight can still be acked,
-- fenced by the same delivery_attempts. Inline expressions only: a migration must not depend on the
-- function files.
insert into fastqueue.message_bodies (slot, id, data, attributes, size_bytes, created_at, ordering_key, ordering_sequence)
select 0, m.id, m.data, m.attributes,
       octet_length(m.data::text) + coalesce(octet_length(m.attributes::text), 0),
       m.created_at, m.ordering_key, m.ordering_sequence
  from fastqueue.messages m;
insert into fastqueue.deliveries (slot, id, body_id, queue_id, delivery_attempts, scheduled_at, expired_at,
                                  created_at, updated_at, ordering_key, ordering_sequence)
select 0, m.id, m.id, m.queue_id, m.delivery_attempts, m.scheduled_at, m.expired_at,
       m.created_at, m.updated_at, m.ordering_key, m.ordering_sequence
  from fastqueue.messages m;

-- What depends on the table's row type or reads it goes with it; db-migrate applies the function
-- and view files right after the migrations and re-creates them on the view.
drop view if exists fastqueue.queue_overview;
drop function if exists fastqueue.publish(text, jsonb, jsonb, integer, text, text);
drop function if exists fastqueue.publish_batch(text, jsonb);
drop function if exists fastqueue._publish_one(fastqueue.topics, jsonb, jsonb, integer, text, text);
drop function if exists fastqueue.consume(text, integer, uuid[]);
drop function if exists fastqueue.peek(text, integer);
-- The response-size bound now counts a message by its body's size_bytes (new parameters).
drop function if exists fastqueue._answer_bytes(text, jsonb, jsonb, text);
drop table fastqueue.messages;

-- The API's view of a message: a delivery with its body's payload, exactly the columns and column
-- order of the table it replaces. The body is a correlated lookup on (slot, id), one index probe
-- per row (LIMIT 1 keeps the planner from turning it into a join that sorts or hashes the whole
-- body table). Writes to it go to deliveries (trigger messages_write, db/functions/_write_message.sql).
create view fastqueue.messages as
select d.id,
       d.queue_id,
       b.data,
       b.attributes,
       d.delivery_attempts,
       d.expired_at,
       d.scheduled_at,
       d.created_at,
       d.updated_at,
       d.ordering_key,
       d.ordering_sequence
  from fastqueue.deliveries d
 cross join lateral (select mb.data, mb.attributes
                       from fastqueue.message_bodies mb
                      where mb.slot = d.slot
                        and mb.id = d.body_id
                      limit 1) b;
comment on view fastqueue.messages is
    'One row per message per queue (a delivery with its body''s data and attributes): what the API functions return. scheduled_at is when it can next be leased; a lease moves it ack_deadline_seconds ahead. Updates and deletes go to fastqueue.deliveries, inserts make a body and a delivery (for operators; publish is the API).';
comment on column fastqueue.messages.scheduled_at is 'When the message can next be delivered: after its delivery delay, or when its current lease ends.';
comment on column fastqueue.messages.expired_at is 'After this the message is never delivered; rotation or cleanup() deletes it.';
comment on column fastqueue.messages.ordering_key is
    'On a queue with enable_message_ordering, messages that share it are delivered one at a time, in publish order (ordering_sequence).';
comment on column fastqueue.messages.ordering_sequence is
    'Publish order among messages with an ordering_key, also within one transaction (from fastqueue.messages_ordering_sequence).';

comment on function fastqueue._new_message_id() is
'Internal: a new message id, time-ordered: the first 48 bits are the Unix time in milliseconds (clock_timestamp()), then version 7 and 74 random bits (the version 7 layout of RFC 9562). The default of fastqueue.deliveries.id and fastqueue.message_bodies.id; publish makes its ids with it, and moves (_move_messages) give a moved message a new one.';

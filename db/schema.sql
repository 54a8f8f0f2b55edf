-- The declared schema of fastqueue: what all of db/migrations adds up to, written as one file.
-- Change the schema here first, then run `make draft-migration` to draft the migration that
-- gets a database there; tests/test_schema_drift.py fails while the two disagree.
-- Functions are not here: they live in db/functions/ and are applied by both paths alike.
create schema if not exists fastqueue;

create table fastqueue.topics (
    id text primary key,
    created_at timestamptz not null default now(),
    deduplication_window_seconds integer not null default 300,
    constraint topics_id_format check (id ~ '^[a-zA-Z0-9._-]+$' and char_length(id) <= 128),
    constraint topics_id_not_only_dots check (id !~ '^\.+$'),
    constraint topics_deduplication_window_seconds_range check (deduplication_window_seconds between 0 and 86400)
);
comment on table fastqueue.topics is 'Named destinations for published messages; each message is copied to every queue subscribed to its topic.';
comment on constraint topics_id_format on fastqueue.topics is
    'id must be 1 to 128 characters, each a letter, a digit, ".", "_" or "-"';
comment on constraint topics_id_not_only_dots on fastqueue.topics is
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs';
comment on column fastqueue.topics.deduplication_window_seconds is
    'How long a deduplication_id given to publish is remembered: a second publish with it within this window delivers nothing new. 0 turns deduplication off.';
comment on constraint topics_deduplication_window_seconds_range on fastqueue.topics is
    'deduplication_window_seconds must be between 0 and 86400 (1 day)';

create table fastqueue.queues (
    id text primary key,
    topic_id text references fastqueue.topics (id) on delete set null,
    ack_deadline_seconds integer not null,
    message_retention_seconds integer not null,
    message_filters jsonb,
    -- No ON DELETE action: deleting a queue first detaches the queues that use it as their dead
    -- queue, clearing message_max_deliveries with it (trigger queues_detach_dead_queue), so the
    -- pair below stays whole.
    dead_queue_id text references fastqueue.queues (id),
    message_max_deliveries integer,
    delivery_delay_seconds integer,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    retry_min_backoff_seconds integer,
    retry_max_backoff_seconds integer,
    enable_message_ordering boolean not null default false,
    filter text,
    filter_ast jsonb,
    push_endpoint text,
    push_format text not null default 'wrapped',
    push_max_in_flight integer not null default 16,
    push_secret_set boolean not null default false,
    constraint queues_id_format check (id ~ '^[a-zA-Z0-9._-]+$' and char_length(id) <= 128),
    constraint queues_id_not_only_dots check (id !~ '^\.+$'),
    constraint queues_ack_deadline_seconds_range check (ack_deadline_seconds between 1 and 600),
    constraint queues_message_retention_seconds_range check (message_retention_seconds between 600 and 1209600),
    constraint queues_message_max_deliveries_range check (message_max_deliveries between 1 and 1000),
    constraint queues_delivery_delay_seconds_range check (delivery_delay_seconds between 1 and 900),
    constraint queues_dead_letter_pair check ((dead_queue_id is null) = (message_max_deliveries is null)),
    constraint queues_dead_queue_not_itself check (dead_queue_id <> id),
    constraint queues_message_filters_shape check (
        message_filters is null
        or (jsonb_typeof(message_filters) = 'object'
            and not jsonb_path_exists(message_filters, 'strict $.* ? (@.type() != "array")')
            and not jsonb_path_exists(message_filters, 'strict $.*[*] ? (@.type() != "string")'))
    ),
    constraint queues_retry_backoff_pair
        check ((retry_min_backoff_seconds is null) = (retry_max_backoff_seconds is null)),
    constraint queues_retry_backoff_range
        check (retry_min_backoff_seconds between 0 and 600
               and retry_max_backoff_seconds between 0 and 600
               and retry_min_backoff_seconds <= retry_max_backoff_seconds),
    constraint queues_filter_length check (char_length(filter) between 1 and 256),
    constraint queues_filter_parsed check ((filter is null) = (filter_ast is null)),
    constraint queues_push_endpoint_url check (
        char_length(push_endpoint) <= 2048 and push_endpoint ~* '^https?://[^/?#@[:space:]]+([/?#][^[:space:]]*)?$'),
    constraint queues_push_format_values check (push_format in ('wrapped', 'unwrapped')),
    constraint queues_push_max_in_flight_range check (push_max_in_flight between 1 and 1000)
);
comment on table fastqueue.queues is 'Subscriptions: each queue receives a copy of the messages published to its topic that pass its filter.';
comment on constraint queues_id_format on fastqueue.queues is
    'id must be 1 to 128 characters, each a letter, a digit, ".", "_" or "-"';
comment on constraint queues_id_not_only_dots on fastqueue.queues is
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs';
comment on constraint queues_ack_deadline_seconds_range on fastqueue.queues is
    'ack_deadline_seconds must be between 1 and 600';
comment on constraint queues_message_retention_seconds_range on fastqueue.queues is
    'message_retention_seconds must be between 600 and 1209600 (14 days)';
comment on constraint queues_message_max_deliveries_range on fastqueue.queues is
    'message_max_deliveries must be between 1 and 1000';
comment on constraint queues_delivery_delay_seconds_range on fastqueue.queues is
    'delivery_delay_seconds must be null or between 1 and 900';
comment on constraint queues_dead_letter_pair on fastqueue.queues is
    'dead_queue_id and message_max_deliveries must be given together or not at all';
comment on constraint queues_dead_queue_not_itself on fastqueue.queues is
    'dead_queue_id must name another queue, not the queue itself';
comment on constraint queues_message_filters_shape on fastqueue.queues is
    'message_filters must be null or a JSON object mapping each attribute name to a list of allowed string values, e.g. {"event_name": ["created", "updated"]}';

comment on column fastqueue.queues.retry_min_backoff_seconds is
    'With retry_max_backoff_seconds: a nack without an explicit delay waits min(max, min * 2^(delivery_attempts - 1)) seconds.';
comment on column fastqueue.queues.enable_message_ordering is
    'Messages that share an ordering_key are delivered one at a time, in publish order.';
comment on column fastqueue.queues.filter is
    'A Pub/Sub-style filter expression over message attributes, as written; both it and message_filters must match.';
comment on column fastqueue.queues.filter_ast is
    'filter parsed once when the queue is written (fastqueue._parse_filter), evaluated at publish time.';
comment on constraint queues_retry_backoff_pair on fastqueue.queues is
    'retry_min_backoff_seconds and retry_max_backoff_seconds must be given together or not at all';
comment on constraint queues_retry_backoff_range on fastqueue.queues is
    'retry_min_backoff_seconds and retry_max_backoff_seconds must be between 0 and 600, the minimum no larger than the maximum';
comment on constraint queues_filter_length on fastqueue.queues is
    'filter must be 1 to 256 characters';
comment on constraint queues_filter_parsed on fastqueue.queues is
    'filter_ast must be filter parsed: write queues through create_queue or update_queue';

comment on column fastqueue.queues.push_endpoint is
    'null for a pull queue; else the http(s) URL `fastqueue worker` POSTs each message to (docs/push.md).';
comment on column fastqueue.queues.push_format is
    'wrapped (a JSON envelope with the message) or unwrapped (the body is the data, the rest in headers).';
comment on column fastqueue.queues.push_max_in_flight is
    'The most concurrent push requests to the endpoint; the worker''s window moves between 1 and this.';
comment on column fastqueue.queues.push_secret_set is
    'Whether a push secret is set (the secret itself is in fastqueue.queue_push_secrets, which no API or view returns).';
comment on constraint queues_push_endpoint_url on fastqueue.queues is
    'push_endpoint must be null or an http:// or https:// URL of at most 2048 characters, with a host and without user:password@ or spaces';
comment on constraint queues_push_format_values on fastqueue.queues is
    'push_format must be "wrapped" or "unwrapped"';
comment on constraint queues_push_max_in_flight_range on fastqueue.queues is
    'push_max_in_flight must be between 1 and 1000';

create index queues_topic_id_idx on fastqueue.queues (topic_id);
create index queues_dead_queue_id_idx on fastqueue.queues (dead_queue_id);

-- Deleting a queue detaches the queues that use it as their dead queue (migration 0012). The trigger
-- names its function, so the function is declared here with an empty body; its body is
-- db/functions/_detach_dead_queue.sql's, which every db-migrate (and the drift test) applies over this.
create function fastqueue._detach_dead_queue() returns trigger language plpgsql as $$ begin return old; end; $$;
create trigger queues_detach_dead_queue
    before delete on fastqueue.queues
    for each row execute function fastqueue._detach_dead_queue();

-- Only messages with an ordering key take a number, so unkeyed publishing pays nothing for it.
create sequence fastqueue.messages_ordering_sequence as bigint;

-- Sharding (docs/sharding.md): this database's shard number, if it is a shard; see migration 0014.
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

-- Time-ordered message ids (the version 7 layout of RFC 9562), carrying the shard number on a shard: see
-- migrations 0008 and 0014.
create function fastqueue._new_message_id()
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
revoke execute on function fastqueue._new_message_id() from public;


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
'Internal: a new message id, time-ordered: the first 48 bits are the Unix time in milliseconds (clock_timestamp()), then version 7, then on a shard the shard number in 12 bits (fastqueue.shard_identity; random bits on an unsharded database), then the variant and 62 random bits (the version 7 layout of RFC 9562). The default of fastqueue.deliveries.id and fastqueue.message_bodies.id; publish makes its ids with it, and moves (_move_messages) give a moved message a new one.';

create table fastqueue.deduplications (
    topic_id text not null references fastqueue.topics (id) on delete cascade,
    deduplication_id text not null,
    message_ids uuid[] not null default '{}',
    created_at timestamptz not null default now(),
    expired_at timestamptz not null,
    fingerprint bytea,
    primary key (topic_id, deduplication_id),
    constraint deduplications_deduplication_id_length check (char_length(deduplication_id) between 1 and 128)
);
comment on table fastqueue.deduplications is
    'One row per deduplication_id published to a topic within its window: the ids of the messages the first publish stored. The primary key makes concurrent duplicates wait for the first and then read its row.';
comment on column fastqueue.deduplications.expired_at is
    'After this the id may be published anew; cleanup() deletes the row.';
comment on column fastqueue.deduplications.fingerprint is
    'sha256 of the first publish''s data, attributes and ordering_key as one jsonb array''s text: a duplicate gets the first publish''s copies only when its own fingerprint is the same.';
comment on constraint deduplications_deduplication_id_length on fastqueue.deduplications is
    'deduplication_id must be null or 1 to 128 characters';
-- cleanup: expired records, oldest first.
create index deduplications_expired_at_idx on fastqueue.deduplications (expired_at);

-- Long polling: NOTIFY only for queues someone waits on (a NOTIFY serialises commits).
create unlogged table fastqueue.queue_watchers (
    queue_id text not null,
    watcher text not null,
    watched_until timestamptz not null,
    primary key (queue_id, watcher),
    constraint queue_watchers_watcher_length check (char_length(watcher) between 1 and 128)
);
comment on table fastqueue.queue_watchers is
    'Who waits for messages on which queue, until when (fastqueue.watch_queue). Messages that become available on a queue watched now are announced with NOTIFY fastqueue_available; other queues cost no NOTIFY. cleanup() deletes rows past watched_until.';
comment on constraint queue_watchers_watcher_length on fastqueue.queue_watchers is
    'watcher must be 1 to 128 characters';
-- cleanup: rows past their time.
create index queue_watchers_watched_until_idx on fastqueue.queue_watchers (watched_until);

-- Result shapes of functions that return more than one value. Composite types rather than
-- RETURNS TABLE, so a later migration can ALTER TYPE … ADD ATTRIBUTE without dropping the function.
create type fastqueue.queue_statistics as (
    num_undelivered_messages bigint,
    oldest_unacked_message_age_seconds integer,
    num_inflight_messages bigint,
    num_delayed_messages bigint,
    num_dead_letter_candidates bigint,
    push_in_flight bigint,
    push_window integer
);
comment on type fastqueue.queue_statistics is 'What queue_stats() returns.';

create type fastqueue.cleanup_summary as (
    expired_messages bigint,
    dead_lettered_messages bigint,
    expired_deduplications bigint
);
comment on type fastqueue.cleanup_summary is 'What cleanup() returns: how many messages it deleted and moved.';

-- The store's rotation (fastqueue.rotate_store): see migration 0010.
-- One row. Written only by rotate_store() (at most once an attempt), read by operators
-- (fastqueue.store_overview, `fastqueue stats`, /metrics); never by publish or consume.
create table fastqueue.store_state (
    single_row boolean primary key default true,
    rotations bigint not null default 0,
    skips bigint not null default 0,
    last_outcome text,
    last_attempt_at timestamptz,
    last_rotated_at timestamptz,
    carried_deliveries bigint not null default 0,
    carried_bodies bigint not null default 0,
    dropped_deliveries bigint not null default 0,
    last_carried_deliveries integer not null default 0,
    last_carried_bodies integer not null default 0,
    last_rotation_ms double precision,
    consecutive_busy integer not null default 0,
    consecutive_lock_failures integer not null default 0,
    next_attempt_at timestamptz,
    lock_holders jsonb not null default '{}',
    changes_baseline bigint[] not null default '{0,0}',
    constraint store_state_single_row check (single_row)
);
comment on table fastqueue.store_state is
    'The store''s rotation (fastqueue.rotate_store): one row, updated by every attempt that is not refused outright. Read it through the view fastqueue.store_overview.';
comment on column fastqueue.store_state.skips is 'Attempts that did not rotate (idle, backlog, busy, lock not available).';
comment on column fastqueue.store_state.last_outcome is
    'rotated, idle, backlog, busy: pid N, or lock not available (attempts refused with ''another rotation is running'' or ''backing off'' leave the row alone).';
comment on column fastqueue.store_state.dropped_deliveries is
    'Deliveries rotations did not carry: expired ones and those of deleted queues.';
comment on column fastqueue.store_state.last_rotation_ms is
    'How long the last rotation held its lock on the retired slot (from grant to the end of the function), in milliseconds.';
comment on column fastqueue.store_state.consecutive_busy is
    'busy skips in a row; from the second on, attempts back off (2, 4, 8, 16, then 30 s; next_attempt_at).';
comment on column fastqueue.store_state.consecutive_lock_failures is
    'NOWAIT attempts in a row that found the lock taken; after 3 the next attempt waits (fastqueue.rotation_lock_timeout, 50 ms).';
comment on column fastqueue.store_state.lock_holders is
    'The transactions (virtual transaction id -> when an attempt first saw it, as Unix epoch seconds) that held a lock on the slot to retire at the last attempt: one seen for more than a second makes the next attempt skip as busy.';
comment on column fastqueue.store_state.changes_baseline is
    'Per slot (element 1: slot 0), the row changes counted by pg_stat for its deliveries table when it last became current: the worth-it rule counts the changes since.';
comment on constraint store_state_single_row on fastqueue.store_state is 'store_state has exactly one row';

insert into fastqueue.store_state default values;

create type fastqueue.rotation_summary as (
    outcome text,
    current_slot smallint,
    carried_deliveries integer,
    carried_bodies integer,
    carried_in_flight integer,
    dropped_expired integer,
    dropped_orphaned integer,
    waited_for_lock boolean
);
comment on type fastqueue.rotation_summary is 'What rotate_store() returns: the outcome of one attempt and what it carried and dropped.';

-- Roles and the schema's privileges: migration 0002_create_roles.sql is their one owner. Roles belong
-- to the whole cluster and migra compares schemas, not roles, so this file does not state them again:
-- scripts/schema_diff.py applies that migration right after this file, before the function files
-- that grant to the roles.

-- Push delivery (issue 20, docs/push.md)
-- Write-only: the secret that signs a queue's push requests. Only the owner reads this table; the
-- worker gets it through fastqueue.push_queues().
create table fastqueue.queue_push_secrets (
    queue_id text primary key references fastqueue.queues (id) on delete cascade,
    secret text not null,
    constraint queue_push_secrets_length check (char_length(secret) between 16 and 256)
);
comment on table fastqueue.queue_push_secrets is
    'Each push queue''s signing secret (push_secret); write-only: no API function or view returns it, except fastqueue.push_queues() for `fastqueue worker`.';
comment on constraint queue_push_secrets_length on fastqueue.queue_push_secrets is
    'push_secret must be 16 to 256 characters (or "" to remove it)';

-- What each worker reports of its push delivery: in-flight requests, the endpoint's window, and
-- cumulative counts for /metrics. Unlogged: it is a view of live state, lost with a crash.
create unlogged table fastqueue.push_states (
    worker text not null,
    queue_id text not null,
    in_flight integer not null,
    "window" integer not null,
    failing boolean not null,
    outcomes jsonb not null,
    latency jsonb not null,
    updated_at timestamptz not null default now(),
    primary key (worker, queue_id)
);
comment on table fastqueue.push_states is
    'Push delivery state as each `fastqueue worker` reports it (fastqueue.report_push_states): requests in flight, the endpoint''s window, whether it is failing, and cumulative counts by outcome and latency (for /metrics).';

-- The worker learns of push settings that change (create, update, delete of a queue) from a NOTIFY
-- on fastqueue_push_queues, so it never polls for them.
create function fastqueue._notify_push_queues()
returns trigger
language plpgsql
as $$
begin
    perform pg_catalog.pg_notify('fastqueue_push_queues', coalesce(new.id, old.id));
    return null;
end;
$$;
comment on function fastqueue._notify_push_queues() is
'Internal (trigger on fastqueue.queues): NOTIFY fastqueue_push_queues with the queue id when a push queue is created, deleted, or its settings change, so that `fastqueue worker` re-reads them.';
revoke execute on function fastqueue._notify_push_queues() from public;

create trigger queues_notify_push_insert after insert on fastqueue.queues
    for each row when (new.push_endpoint is not null) execute function fastqueue._notify_push_queues();
create trigger queues_notify_push_delete after delete on fastqueue.queues
    for each row when (old.push_endpoint is not null) execute function fastqueue._notify_push_queues();
create trigger queues_notify_push_update after update on fastqueue.queues
    for each row when (new.push_endpoint is not null or old.push_endpoint is not null)
    execute function fastqueue._notify_push_queues();

-- What the queue functions return (issue 16): a queue as a caller sees it, without filter_ast.
create view fastqueue.queue_settings as
select q.id,
       q.topic_id,
       q.ack_deadline_seconds,
       q.message_retention_seconds,
       q.message_filters,
       q.dead_queue_id,
       q.message_max_deliveries,
       q.delivery_delay_seconds,
       q.created_at,
       q.updated_at,
       q.retry_min_backoff_seconds,
       q.retry_max_backoff_seconds,
       q.enable_message_ordering,
       q.filter,
       q.push_endpoint,
       q.push_format,
       q.push_max_in_flight,
       q.push_secret_set
  from fastqueue.queues q;
comment on view fastqueue.queue_settings is
    'A queue as a caller sees it: every setting of fastqueue.queues but the internal filter_ast (push_secret_set, never the secret). The result type of create_queue, update_queue, get_queue, list_queues and delete_queue.';

-- Rotation of the store (issue 15; docs/storage.md, "Rotation"): fastqueue.rotate_store() empties
-- the slot that is not current with TRUNCATE, carries its live deliveries and their bodies forward
-- into it, and makes it current. This migration adds what it keeps between attempts and what it
-- returns; the functions are db/functions/rotate_store.sql and rotate_store_for.sql.

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

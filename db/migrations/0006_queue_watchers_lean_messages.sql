-- Long polling without a global lock in every publish. NOTIFY takes a database-wide lock when its
-- transaction commits and keeps it until the commit record is flushed, so a NOTIFY in every publish
-- put all publishers' commits in single file (measured: publish TPS fell as clients were added).
-- Now whoever waits on a queue (the gateway, or a SQL session that LISTENs) says so in this table
-- with fastqueue.watch_queue(), and _notify_available() notifies only queues watched right now.
-- Unlogged: a registration is worth nothing after a crash, and it is written outside the message
-- path; the gateway registers again as its waits go on.
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

-- Every message is inserted, updated at each lease and deleted at ack: the table turns over all the
-- time, so vacuum it by the number of dead rows, not by a fraction of its size, and at full speed
-- (it is small when consumers keep up). A lease moves scheduled_at, an indexed column, so leases
-- cannot be HOT updates and a lower fillfactor would buy nothing.
alter table fastqueue.messages set (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_vacuum_cost_delay = 0
);

-- What a single-row publish costs is mostly fixed cost per statement, and these were the largest
-- part of it (measured with pgbench at 16 clients: a copy of the table without them took 1.6 times
-- the inserts per second). The foreign key locks the queue's row FOR KEY SHARE on every insert, which
-- makes concurrent publishers to one queue share a MultiXact; each CHECK constraint is read and
-- prepared again by every statement that writes a row. The rules stay in SQL where messages are
-- written: only the API functions write this table (no role but the owner may), and they check
-- data, attributes and ordering keys before storing (_check_message, _batch_message_valid), and
-- delivery_attempts only ever grows from 0. Messages of a deleted queue are deleted by
-- delete_queue() itself; those of a publish that read the queue before the delete and committed
-- after it are deleted by cleanup(), and by create_queue() when it reuses the id.
alter table fastqueue.messages
    drop constraint messages_queue_id_fkey,
    drop constraint messages_data_object,
    drop constraint messages_attributes_shape,
    drop constraint messages_ordering_key_sequenced,
    drop constraint messages_ordering_key_length,
    drop constraint messages_delivery_attempts_not_negative;

-- _check_message now returns true and _require_between the value it checked, instead of void, so
-- hot paths call them in expressions (db/functions/ recreates both).
drop function if exists fastqueue._check_message(jsonb, jsonb, integer, text, text, text);
drop function if exists fastqueue._require_between(text, integer, integer, integer);

-- Publisher features beyond SQS and Pub/Sub need storage: a per-topic deduplication window and one
-- record per deduplication id (so concurrent duplicates meet on a unique key and exactly one wins),
-- ordering keys on messages with a per-row sequence (messages of one transaction share now(), so
-- created_at cannot order them), and cleanup's count of expired deduplication records. publish and
-- create_topic gain parameters, so their old signatures go (db/functions/ recreates them).
alter table fastqueue.topics
    add column deduplication_window_seconds integer not null default 300,
    add constraint topics_deduplication_window_seconds_range check (deduplication_window_seconds between 0 and 86400);
comment on column fastqueue.topics.deduplication_window_seconds is
    'How long a deduplication_id given to publish is remembered: a second publish with it within this window delivers nothing new. 0 turns deduplication off.';
comment on constraint topics_deduplication_window_seconds_range on fastqueue.topics is
    'deduplication_window_seconds must be between 0 and 86400 (1 day)';

-- Only messages with an ordering key take a number, so unkeyed publishing pays nothing for it.
create sequence fastqueue.messages_ordering_sequence as bigint;
alter table fastqueue.messages
    add column ordering_key text,
    add column ordering_sequence bigint,
    add constraint messages_ordering_key_length check (char_length(ordering_key) between 1 and 128),
    add constraint messages_ordering_key_sequenced check ((ordering_key is null) = (ordering_sequence is null));
comment on column fastqueue.messages.ordering_key is
    'On a queue with enable_message_ordering, messages that share it are delivered one at a time, in publish order (ordering_sequence).';
comment on column fastqueue.messages.ordering_sequence is
    'Publish order among messages with an ordering_key, also within one transaction (from fastqueue.messages_ordering_sequence).';
comment on constraint messages_ordering_key_length on fastqueue.messages is
    'ordering_key must be null or 1 to 128 characters';
comment on constraint messages_ordering_key_sequenced on fastqueue.messages is
    'ordering_sequence must be set exactly when ordering_key is: publish messages through fastqueue.publish';

-- consume on an ordered queue: is there an earlier message with the same key in this queue?
create index messages_queue_id_ordering_key_idx on fastqueue.messages (queue_id, ordering_key, ordering_sequence)
    where ordering_key is not null;

create table fastqueue.deduplications (
    topic_id text not null references fastqueue.topics (id) on delete cascade,
    deduplication_id text not null,
    message_ids uuid[] not null default '{}',
    created_at timestamptz not null default now(),
    expired_at timestamptz not null,
    primary key (topic_id, deduplication_id),
    constraint deduplications_deduplication_id_length check (char_length(deduplication_id) between 1 and 128)
);
comment on table fastqueue.deduplications is
    'One row per deduplication_id published to a topic within its window: the ids of the messages the first publish stored. The primary key makes concurrent duplicates wait for the first and then read its row.';
comment on column fastqueue.deduplications.expired_at is
    'After this the id may be published anew; cleanup() deletes the row.';
comment on constraint deduplications_deduplication_id_length on fastqueue.deduplications is
    'deduplication_id must be null or 1 to 128 characters';
-- cleanup: expired records, oldest first.
create index deduplications_expired_at_idx on fastqueue.deduplications (expired_at);

alter type fastqueue.cleanup_summary add attribute expired_deduplications bigint;

drop function if exists fastqueue.publish(text, jsonb, jsonb);
drop function if exists fastqueue.create_topic(text);

-- Queues gain the settings of the consumer and publisher features: retry backoff for nacks,
-- ordered delivery per ordering key, and a Pub/Sub-style filter expression (kept as written, and
-- parsed once into filter_ast when the queue is written). create_queue and update_queue gain the
-- matching optional parameters, so their old signatures go (db/functions/ recreates them).
alter table fastqueue.queues
    add column retry_min_backoff_seconds integer,
    add column retry_max_backoff_seconds integer,
    add column enable_message_ordering boolean not null default false,
    add column filter text,
    add column filter_ast jsonb,
    add constraint queues_retry_backoff_pair
        check ((retry_min_backoff_seconds is null) = (retry_max_backoff_seconds is null)),
    add constraint queues_retry_backoff_range
        check (retry_min_backoff_seconds between 0 and 600
               and retry_max_backoff_seconds between 0 and 600
               and retry_min_backoff_seconds <= retry_max_backoff_seconds),
    add constraint queues_filter_length check (char_length(filter) between 1 and 256),
    add constraint queues_filter_parsed check ((filter is null) = (filter_ast is null));

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

drop function if exists fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer);
drop function if exists fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer);

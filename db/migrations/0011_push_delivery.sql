-- Issue 20: push delivery (docs/push.md). A queue with a push_endpoint has its messages POSTed to
-- that URL by `fastqueue worker`. create_queue and update_queue gain four trailing parameters: their
-- twelve-parameter signatures go (db/functions/ recreates them; calls in named notation, and
-- positional calls with the old arguments, keep working through the defaults).
drop function if exists fastqueue.create_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text);
drop function if exists fastqueue.update_queue(text, text, integer, integer, jsonb, text, integer, integer, integer, integer, boolean, text);

alter table fastqueue.queues
    add column push_endpoint text,
    add column push_format text not null default 'wrapped',
    add column push_max_in_flight integer not null default 16,
    add column push_secret_set boolean not null default false,
    add constraint queues_push_endpoint_url check (
        char_length(push_endpoint) <= 2048 and push_endpoint ~* '^https?://[^/?#@[:space:]]+([/?#][^[:space:]]*)?$'),
    add constraint queues_push_format_values check (push_format in ('wrapped', 'unwrapped')),
    add constraint queues_push_max_in_flight_range check (push_max_in_flight between 1 and 1000);
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

-- queue_stats() shows push delivery too (null for a pull queue).
alter type fastqueue.queue_statistics
    add attribute push_in_flight bigint,
    add attribute push_window integer;

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

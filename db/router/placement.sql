-- The router's own part (docs/sharding.md, "Placement"): where each topic and queue lives, and the
-- functions the generated PL/Proxy functions route with. Applied by `fastqueue db-migrate` in the
-- router database only, after schema fastqueue_router and fastqueue_router.shard_count() exist.

create table if not exists fastqueue_router.placements (
    kind text not null,
    id text not null,
    shard integer not null,
    created_at timestamptz not null default now(),
    primary key (kind, id),
    constraint placements_kind check (kind in ('topic', 'queue')),
    constraint placements_shard check (shard >= 0)
);
comment on table fastqueue_router.placements is
    'Sharding: the shard of every topic and queue (kind topic or queue). Written by the router''s create_topic/create_queue before the shard call, removed after delete_topic/delete_queue.';
revoke all on table fastqueue_router.placements from public;

-- A new object's shard when nothing ties it to another: its id's hash.
create or replace function fastqueue_router.hash_shard(id text)
returns integer
language sql
immutable
as $$
    select hashtext(id) & (fastqueue_router.shard_count() - 1)
$$;

create or replace function fastqueue_router.known_shard(kind text, id text)
returns integer
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select p.shard from fastqueue_router.placements p where p.kind = known_shard.kind and p.id = known_shard.id
$$;
comment on function fastqueue_router.known_shard(text, text) is
    'Sharding: the shard of a topic or queue (kind topic or queue), null when the router does not know it.';

-- The shard of a topic or queue. One the router does not know goes to shard 0, which gives one
-- database's answer for it (its own "Topic not found", or null from get_topic).
create or replace function fastqueue_router.topic_shard(topic_id text)
returns integer
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(fastqueue_router.known_shard('topic', topic_id), 0)
$$;
comment on function fastqueue_router.topic_shard(text) is
    'Sharding: the shard that holds a topic (0 for an unknown one, which then answers as one database would).';

create or replace function fastqueue_router.queue_shard(queue_id text)
returns integer
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select coalesce(fastqueue_router.known_shard('queue', queue_id), 0)
$$;
comment on function fastqueue_router.queue_shard(text) is
    'Sharding: the shard that holds a queue (0 for an unknown one, which then answers as one database would).';

-- A message id carries its shard in the three hex digits after the version nibble (migration 0014).
create or replace function fastqueue_router.message_shard(message_id uuid)
returns integer
language sql
immutable
as $$
    select ('x' || substr(message_id::text, 16, 3))::bit(12)::integer
$$;
comment on function fastqueue_router.message_shard(uuid) is
    'Sharding: the shard a message id was made on (its 12 bits after the version nibble, migration 0014).';

-- Refuses what would put related objects on two shards: 22023, as every bad argument.
create or replace function fastqueue_router.require_same_shard(
    queue_id text, shard integer, other_kind text, other_id text, other_shard integer)
returns integer
language plpgsql
immutable
as $$
begin
    if other_shard is not null and other_shard <> shard then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('Queue %s is on shard %s but %s %s is on shard %s: a queue, its topic, its dead queue and a redrive''s destination must be on one shard',
                             queue_id, shard, other_kind, other_id, other_shard),
            hint = 'Create the queue with a topic and dead queue of one shard (a queue without a topic follows its dead queue), or redrive to a queue of the same shard.';
    end if;
    return shard;
end;
$$;

-- Places a new topic: the placement row first (its primary key serialises two creates of one id),
-- then the caller's shard call, in the same statement: a failure there rolls the row back.
create or replace function fastqueue_router.place_topic(id text)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_shard integer := fastqueue_router.hash_shard(id);
begin
    insert into fastqueue_router.placements (kind, id, shard) values ('topic', place_topic.id, v_shard);
    return v_shard;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This topic already exists';
end;
$$;

-- Places a new queue: on its topic's shard, else its dead queue's, else by its id's hash. An unknown
-- topic or dead queue is left for the shard to refuse with its own error.
create or replace function fastqueue_router.place_queue(id text, topic_id text, dead_queue_id text)
returns integer
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_topic_shard integer := fastqueue_router.known_shard('topic', topic_id);
    v_dead_shard integer := fastqueue_router.known_shard('queue', dead_queue_id);
    v_shard integer := coalesce(v_topic_shard, v_dead_shard, fastqueue_router.hash_shard(id));
begin
    perform fastqueue_router.require_same_shard(id, v_shard, 'topic', topic_id, v_topic_shard);
    perform fastqueue_router.require_same_shard(id, v_shard, 'dead queue', dead_queue_id, v_dead_shard);
    insert into fastqueue_router.placements (kind, id, shard) values ('queue', place_queue.id, v_shard);
    return v_shard;
exception
    when unique_violation then
        raise exception using errcode = 'unique_violation', message = 'This queue already exists';
end;
$$;

-- An existing queue's shard, after checking that its new topic and dead queue are on it too.
create or replace function fastqueue_router.replace_queue(id text, topic_id text, dead_queue_id text)
returns integer
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_shard integer := fastqueue_router.queue_shard(id);
begin
    perform fastqueue_router.require_same_shard(id, v_shard, 'topic', topic_id, fastqueue_router.known_shard('topic', topic_id));
    perform fastqueue_router.require_same_shard(id, v_shard, 'dead queue', dead_queue_id, fastqueue_router.known_shard('queue', dead_queue_id));
    return v_shard;
end;
$$;

create or replace function fastqueue_router.redrive_shard(id text, destination_queue_id text)
returns integer
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_shard integer := fastqueue_router.queue_shard(id);
begin
    return fastqueue_router.require_same_shard(id, v_shard, 'destination queue', destination_queue_id,
                                               fastqueue_router.known_shard('queue', destination_queue_id));
end;
$$;

-- After a shard deleted a topic or queue: its placement goes.
create or replace function fastqueue_router.forget(kind text, id text)
returns void
language sql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
    delete from fastqueue_router.placements p where p.kind = forget.kind and p.id = forget.id
$$;

-- PL/Proxy raises a shard's error with its SQLSTATE but prefixes its texts ("fastqueue_router.f(oid):
-- [db] REMOTE ERROR: ", "Remote detail: ", "Remote hint: "): the router's API functions raise it again
-- with the shard's own texts, as one database would. A shard that cannot be reached (PL/Proxy's
-- XX000 about the connection) becomes 08006 connection_failure: the gateway's 503.
create or replace function fastqueue_router.raise_shard_error(state text, message text, detail text, hint text)
returns void
language plpgsql
immutable
as $$
declare
    v_message text := regexp_replace(message, '^.*?\] REMOTE ERROR: ', '');
    v_detail text := regexp_replace(detail, '^Remote detail: ', '');
    v_hint text := regexp_replace(hint, '^Remote hint: ', '');
begin
    if state = 'XX000' and message like 'PL/Proxy function %' and message ~* '(PQconnectPoll|PQconsumeInput|PQsend|connection|could not connect)' then
        raise exception using errcode = 'connection_failure',
            message = 'A shard of this fastqueue cannot be reached now; try again later',
            detail = regexp_replace(message, '^PL/Proxy function [^:]*: ', '');
    elsif v_detail is null and v_hint is null then
        raise exception using errcode = state, message = v_message;
    elsif v_hint is null then
        raise exception using errcode = state, message = v_message, detail = v_detail;
    elsif v_detail is null then
        raise exception using errcode = state, message = v_message, hint = v_hint;
    else
        raise exception using errcode = state, message = v_message, detail = v_detail, hint = v_hint;
    end if;
end;
$$;

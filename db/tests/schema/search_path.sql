-- Every API function runs as its owner (SECURITY DEFINER) with search_path fixed to
-- pg_catalog, pg_temp, so a caller cannot hijack it with look-alike objects placed ahead of
-- pg_catalog in its own search_path (functions, operators) or in pg_temp (tables). The internal
-- helpers have neither clause: the planner inlines the small SQL ones into their callers.
begin;
select plan(39);

select is_definer('fastqueue', f, format('%s runs as its owner (SECURITY DEFINER).', f))
  from unnest(array[
        'create_topic', 'get_topic', 'list_topics', 'delete_topic',
        'create_queue', 'update_queue', 'get_queue', 'list_queues', 'delete_queue',
        'queue_stats', 'purge_queue', 'redrive_queue',
        'publish', 'send', 'consume', 'ack', 'nack', 'cleanup', 'queue_depths', 'rotate_store'
       ]) f
 order by f;

select is_empty(
    $$ select p.oid::regprocedure::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proname !~ '^_'
          and p.proname <> 'rotate_store_for'  -- a procedure that COMMITs: see below
          and (not p.prosecdef
               or p.proconfig[1] is distinct from 'search_path=pg_catalog, pg_temp'
               -- consume also fixes how its lease statement is planned (see db/functions/consume.sql)
               or p.proconfig[2:] <> case when p.proname = 'consume'
                                          then array['plan_cache_mode=force_generic_plan', 'jit=off']
                                          else array[]::text[] end) $$,
    'Every API function is SECURITY DEFINER with SET search_path = pg_catalog, pg_temp (consume: and its planner settings, nothing else).'
);
-- PostgreSQL refuses COMMIT in a procedure that is SECURITY DEFINER or has a SET clause, so
-- rotate_store_for runs as its caller and names everything with its schema (operators included).
select ok(
    (select not p.prosecdef and p.proconfig is null
            and pg_catalog.pg_get_functiondef(p.oid) !~ '[^.](now|clock_timestamp|pg_sleep|make_interval)\('
       from pg_catalog.pg_proc p where p.oid = 'fastqueue.rotate_store_for'::regproc),
    'rotate_store_for (it COMMITs) is the one API routine that is not SECURITY DEFINER: no SET clause, every function it calls schema-qualified.'
);
select is_empty(
    $$ select p.oid::regprocedure::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proname ~ '^_'
          and (p.prosecdef or p.proconfig is not null) $$,
    'No internal helper is SECURITY DEFINER or has a SET clause (either would stop it being inlined).'
);

-- Fixtures, made by the owner with the ordinary search_path.
do $$
begin
    perform fastqueue_tests.create_topic_with_queues('hostile-events', 'hostile-plain');
    perform fastqueue.create_queue('hostile-delayed', 'hostile-events', 30, 600, delivery_delay_seconds => 900);
    perform fastqueue.create_queue('hostile-filtered', 'hostile-events', 30, 600,
                                   message_filters => '{"kind": ["wanted"]}');
end $$;

-- The look-alikes. In schema evil, ahead of pg_catalog: a clock stuck in 2000, a jsonb_typeof that
-- calls everything an object, a jsonb @> that always matches (filters) and a timestamptz <= that
-- always holds (scheduled_at <= now()). In pg_temp, ahead of everything: tables named like ours.
create schema evil;
create function evil.now() returns timestamptz language sql immutable
    as $$ select '2000-01-01 00:00:00+00'::timestamptz $$;
create function evil.jsonb_typeof(jsonb) returns text language sql immutable as $$ select 'object'::text $$;
create function evil.always(jsonb, jsonb) returns boolean language sql immutable as $$ select true $$;
create function evil.always(timestamptz, timestamptz) returns boolean language sql immutable as $$ select true $$;
create operator evil.@> (leftarg = jsonb, rightarg = jsonb, function = evil.always);
create operator evil.<= (leftarg = timestamptz, rightarg = timestamptz, function = evil.always);
grant usage on schema evil to public;
create temp table messages (like fastqueue.messages including defaults) on commit drop;
insert into pg_temp.messages (id, queue_id, data, expired_at, scheduled_at)
values (gen_random_uuid(), 'look-alike', '{}', '2000-01-02', '2000-01-01');
create temp table queues (like fastqueue.queues) on commit drop;
create temp table topics (like fastqueue.topics) on commit drop;
grant all on pg_temp.messages, pg_temp.queues, pg_temp.topics to public;

-- A caller with the admin role and the hostile search_path. Results are kept in temp tables and
-- checked afterwards, so the checks themselves run with the ordinary search_path.
set local role fastqueue_admin;
set local search_path = pg_temp, evil, pg_catalog, public;

create table pg_temp.armed as
select now() as now,
       jsonb_typeof('[1]') as typeof_array,
       '{"kind": ["wanted"]}'::jsonb @> '["unwanted"]'::jsonb as contains,
       (pg_catalog.now() + interval '1 hour') <= pg_catalog.now() as later_is_earlier,
       (select m.queue_id from messages m) as messages_queue_id;

create table pg_temp.published as
select * from fastqueue.publish('hostile-events', '{"n": 1}', '{"kind": "unwanted"}');
select throws_ok(
    $$ select fastqueue.publish('hostile-events', '[1]') $$,
    '22023', null,
    'With the hostile search_path, publish still refuses data that is not a JSON object.'
);
create table pg_temp.consumed_plain as select * from fastqueue.consume('hostile-plain', 10);
create table pg_temp.consumed_delayed as select * from fastqueue.consume('hostile-delayed', 10);
create table pg_temp.stats_delayed as select * from fastqueue.queue_stats('hostile-delayed');
create table pg_temp.depths as select * from fastqueue.queue_depths();

reset search_path;
reset role;

-- The trap is armed: an unqualified name in the caller's own statement does reach the look-alike.
select is((select now from armed), '2000-01-01 00:00:00+00'::timestamptz,
    'The hostile search_path turns now() into a clock stuck in 2000.');
select is((select typeof_array from armed), 'object',
    'The hostile search_path turns jsonb_typeof of an array into ''object''.');
select is((select contains from armed), true,
    'The hostile search_path makes jsonb @> match anything.');
select is((select later_is_earlier from armed), true,
    'The hostile search_path makes timestamptz <= always true.');
select is((select messages_queue_id from armed), 'look-alike',
    'The hostile search_path makes an unqualified messages the temp look-alike table.');

-- The functions are not fooled.
select results_eq(
    $$ select queue_id from published order by queue_id $$,
    array['hostile-delayed', 'hostile-plain'],
    'publish applies the queue filter (the unwanted message skips hostile-filtered) despite a hostile @>.'
);
select ok(
    (select bool_and(expired_at between now() + interval '599 seconds' and now() + interval '601 seconds')
       from published),
    'publish sets expired_at from the real clock, not the hostile now().'
);
select ok(
    (select scheduled_at > now() + interval '899 seconds' from published where queue_id = 'hostile-delayed'),
    'publish delays the copy in hostile-delayed by 900 seconds of the real clock.'
);
select is((select count(*) from fastqueue.messages where queue_id like 'hostile-%'), 2::bigint,
    'publish stored its copies in fastqueue.messages.');
select is((select count(*) from pg_temp.messages), 1::bigint,
    'publish left the look-alike messages table alone.');
select is((select count(*) from consumed_plain), 1::bigint,
    'consume leases the available message although the hostile now() says it is 2000.');
select ok(
    (select scheduled_at > now() + interval '29 seconds' from consumed_plain),
    'consume leases for the ack deadline on the real clock.'
);
select is((select count(*) from consumed_delayed), 0::bigint,
    'consume does not lease a delayed message despite a hostile <= that always holds.');
select is((select num_undelivered_messages from stats_delayed), 0::bigint,
    'queue_stats does not count the delayed message as available despite the hostile <=.');
select results_eq(
    $$ select queue_id, available_messages, total_messages from depths order by queue_id $$,
    $$ values ('hostile-delayed'::text, 0::bigint, 1::bigint), ('hostile-filtered', 0, 0), ('hostile-plain', 0, 1) $$,
    'queue_depths counts what is really available and stored.'
);

select * from finish();
rollback;

-- Least privilege: fastqueue_publisher may publish, fastqueue_consumer may consume, ack, nack and
-- read queue_stats, fastqueue_admin may call every API function and read the overview views; none of
-- them, nor PUBLIC, may touch a table or an internal helper. Each role is tried for real with SET LOCAL ROLE.
begin;
select plan(198);

-- Fixtures, made by the owner.
do $$
begin
    perform fastqueue.create_topic('roles-events');
    perform fastqueue.create_topic('roles-doomed');
    perform fastqueue.create_topic('roles-other-topic');  -- no queues: publish_batch there stores nothing
    perform fastqueue.create_queue('roles-work', 'roles-events', 30, 600);
    perform fastqueue_tests.create_queues(null, 'roles-other', 'roles-doomed');
end $$;
insert into fastqueue.messages (id, queue_id, data, expired_at, scheduled_at) values
    ('00000000-0000-4000-8000-000000000001', 'roles-work', '{"n": 1}', now() + interval '1 hour', now()),
    ('00000000-0000-4000-8000-000000000002', 'roles-work', '{"n": 2}', now() + interval '1 hour', now());

-- rotate_store() may rotate: setval is not rolled back with the test, so the slot is put back at the end.
select fastqueue_tests.remember_store_slot() is not null as slot_remembered;

-- PUBLIC stands in as a role of its own that nobody granted anything (rolled back with the test).
create role fastqueue_test_nobody nologin;

-- One call of every API function, and the roles that may make it. Calls run in name order and each
-- succeeds whatever ran before it.
create temp table api_calls (name text primary key, call text not null, roles text[] not null) on commit drop;
insert into api_calls values
    ('available_queues', $$ select fastqueue.available_queues(array['roles-work']) $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('ack', $$ select fastqueue.ack('00000000-0000-4000-8000-000000000001') $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('ack_messages', $$ select fastqueue.ack_messages(array['00000000-0000-4000-8000-000000000001']::uuid[]) $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('cleanup', $$ select fastqueue.cleanup() $$, '{fastqueue_admin}'),
    ('consume', $$ select fastqueue.consume('roles-work', 1) $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('create_queue', $$ select fastqueue.create_queue('roles-new', null, 30, 600) $$, '{fastqueue_admin}'),
    ('create_topic', $$ select fastqueue.create_topic('roles-new') $$, '{fastqueue_admin}'),
    ('delete_queue', $$ select fastqueue.delete_queue('roles-doomed') $$, '{fastqueue_admin}'),
    ('delete_topic', $$ select fastqueue.delete_topic('roles-doomed') $$, '{fastqueue_admin}'),
    ('get_queue', $$ select fastqueue.get_queue('roles-work') $$, '{fastqueue_admin}'),
    ('get_topic', $$ select fastqueue.get_topic('roles-events') $$, '{fastqueue_admin}'),
    ('list_queues', $$ select fastqueue.list_queues() $$, '{fastqueue_admin}'),
    ('list_topics', $$ select fastqueue.list_topics() $$, '{fastqueue_admin}'),
    ('manual', $$ select fastqueue.manual() $$, '{fastqueue_admin}'),
    ('nack', $$ select fastqueue.nack('00000000-0000-4000-8000-000000000002') $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('peek', $$ select fastqueue.peek('roles-work', 1) $$, '{fastqueue_admin}'),
    ('nack_messages', $$ select fastqueue.nack_messages(array['00000000-0000-4000-8000-000000000002']::uuid[]) $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('publish', $$ select fastqueue.publish('roles-events', '{"n": 3}') $$, '{fastqueue_publisher,fastqueue_admin}'),
    ('publish_batch', $$ select fastqueue.publish_batch('roles-other-topic', '[{"data": {"n": 4}}]') $$, '{fastqueue_publisher,fastqueue_admin}'),
    ('send', $$ select fastqueue.send('roles-other', '{"n": 6}') $$, '{fastqueue_publisher,fastqueue_admin}'),
    ('push_metrics', $$ select fastqueue.push_metrics() $$, '{fastqueue_admin}'),
    ('push_queues', $$ select fastqueue.push_queues() $$, '{fastqueue_admin}'),
    ('purge_queue', $$ select fastqueue.purge_queue('roles-other') $$, '{fastqueue_admin}'),
    ('queue_depths', $$ select fastqueue.queue_depths() $$, '{fastqueue_admin}'),
    ('queue_stats', $$ select fastqueue.queue_stats('roles-work') $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('report_push_states', $$ select fastqueue.report_push_states('roles-test', '[]') $$, '{fastqueue_admin}'),
    ('redrive_queue', $$ select fastqueue.redrive_queue('roles-other', 'roles-work') $$, '{fastqueue_admin}'),
    ('rotate_store', $$ select fastqueue.rotate_store() $$, '{fastqueue_admin}'),
    ('rotate_store_for', $$ call fastqueue.rotate_store_for(0) $$, '{fastqueue_admin}'),
    ('set_deadline', $$ select fastqueue.set_deadline('00000000-0000-4000-8000-000000000002', 0) $$, '{fastqueue_consumer,fastqueue_admin}'),
    ('update_queue', $$ select fastqueue.update_queue('roles-other', null, 60, 600) $$, '{fastqueue_admin}'),
    ('watch_queue', $$ select fastqueue.watch_queue('roles-work', 'roles-test', 1) $$, '{fastqueue_consumer,fastqueue_admin}');

-- What no role but the owner may do to a table.
create temp table table_statements (description text primary key, statement text not null) on commit drop;
insert into table_statements values
    ('select from messages', $$ select * from fastqueue.messages $$),
    ('insert into messages', $$ insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)
                                values ('roles-work', '{}', now() + interval '1 hour', now()) $$),
    ('update messages', $$ update fastqueue.messages set scheduled_at = now() $$),
    ('delete from messages', $$ delete from fastqueue.messages $$),
    ('select from queues', $$ select * from fastqueue.queues $$),
    ('insert into queues', $$ insert into fastqueue.queues (id, ack_deadline_seconds, message_retention_seconds)
                              values ('roles-sneaky', 30, 600) $$),
    ('update queues', $$ update fastqueue.queues set ack_deadline_seconds = 600 $$),
    ('delete from queues', $$ delete from fastqueue.queues $$),
    ('select from topics', $$ select * from fastqueue.topics $$),
    ('insert into topics', $$ insert into fastqueue.topics (id) values ('roles-sneaky') $$),
    ('update topics', $$ update fastqueue.topics set created_at = now() $$),
    ('delete from topics', $$ delete from fastqueue.topics $$);
-- The views: only fastqueue_admin may read them.
create temp table view_selects (name text primary key, statement text not null) on commit drop;
insert into view_selects values
    ('queue_overview', $$ select * from fastqueue.queue_overview $$),
    ('store_overview', $$ select * from fastqueue.store_overview $$),
    ('topic_overview', $$ select * from fastqueue.topic_overview $$);
grant select on api_calls, table_statements, view_selects to public;

-- The catalog: roles, and who may execute what.
select set_eq(
    $$ select rolname::text from pg_catalog.pg_roles
        where rolname in ('fastqueue_publisher', 'fastqueue_consumer', 'fastqueue_admin')
          and not rolcanlogin and not rolsuper and not rolcreaterole and not rolcreatedb and not rolbypassrls $$,
    array['fastqueue_publisher', 'fastqueue_consumer', 'fastqueue_admin'],
    'The three fastqueue roles exist, cannot log in and hold no special attribute.'
);
select set_eq(
    $$ select name from api_calls $$,
    $$ select p.proname::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proname !~ '^_' $$,
    'This test tries every API function of schema fastqueue.'
);
select set_eq(
    $$ select p.proname::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
          and pg_catalog.has_function_privilege('fastqueue_publisher', p.oid, 'execute') $$,
    array['publish', 'publish_batch', 'send'],
    'fastqueue_publisher may execute publish, publish_batch and send and no other function of schema fastqueue.'
);
select set_eq(
    $$ select p.proname::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
          and pg_catalog.has_function_privilege('fastqueue_consumer', p.oid, 'execute') $$,
    array['consume', 'ack', 'nack', 'queue_stats', 'available_queues', 'watch_queue', 'set_deadline', 'ack_messages', 'nack_messages'],
    'fastqueue_consumer may execute consume, ack, nack, queue_stats, available_queues, watch_queue, set_deadline, ack_messages and nack_messages and no other function of schema fastqueue.'
);
select set_eq(
    $$ select p.proname::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
          and pg_catalog.has_function_privilege('fastqueue_admin', p.oid, 'execute') $$,
    $$ select p.proname::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proname !~ '^_' $$,
    'fastqueue_admin may execute every API function and no internal helper.'
);
select is_empty(
    $$ select p.oid::regprocedure::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace
          and (p.proacl is null  -- null is the default ACL, which lets PUBLIC execute
               or exists (select from pg_catalog.aclexplode(p.proacl) a where a.grantee = 0)) $$,
    'No function in schema fastqueue is executable by PUBLIC.'
);
select is_empty(
    $$ select r.rolname, c.relname, privilege
         from pg_catalog.pg_class c
        cross join (values ('fastqueue_publisher'), ('fastqueue_consumer'), ('fastqueue_admin'),
                           ('fastqueue_test_nobody')) r (rolname)
        cross join unnest(array['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger']) privilege
        where c.relnamespace = 'fastqueue'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S')
          and pg_catalog.has_table_privilege(r.rolname, c.oid, privilege)
          and not (c.relkind = 'v' and r.rolname = 'fastqueue_admin' and privilege = 'select') $$,
    'No fastqueue role, nor PUBLIC, holds any privilege on a table of schema fastqueue (but fastqueue_admin reading a view).'
);
select set_eq(
    $$ select c.relname::text from pg_catalog.pg_class c
        where c.relnamespace = 'fastqueue'::regnamespace and c.relkind = 'v'
          and pg_catalog.has_table_privilege('fastqueue_admin', c.oid, 'select') $$,
    $$ select name from view_selects $$,
    'fastqueue_admin may read every view of schema fastqueue, and this test tries each.'
);
select schema_privs_are('fastqueue', 'fastqueue_publisher', array['USAGE'],
    'fastqueue_publisher may use schema fastqueue, not create in it.');
select schema_privs_are('fastqueue', 'fastqueue_consumer', array['USAGE'],
    'fastqueue_consumer may use schema fastqueue, not create in it.');
select schema_privs_are('fastqueue', 'fastqueue_admin', array['USAGE'],
    'fastqueue_admin may use schema fastqueue, not create in it.');
select schema_privs_are('fastqueue', 'fastqueue_test_nobody', array[]::text[],
    'PUBLIC may not even use schema fastqueue.');

-- fastqueue_publisher: publish, nothing else.
set local role fastqueue_publisher;
select is((select count(*) from fastqueue.publish('roles-events', '{"n": 3}')), 1::bigint,
    'fastqueue_publisher can publish.');
select is((select count(*) from fastqueue.publish_batch('roles-other-topic', '[{"data": {"n": 5}}]')), 0::bigint,
    'fastqueue_publisher can publish_batch.');
select is((select queue_id from fastqueue.send('roles-other', '{"n": 7}')), 'roles-other',
    'fastqueue_publisher can send.');
select throws_ok(c.call, '42501', null, format('fastqueue_publisher may not call %s.', c.name))
  from api_calls c where not 'fastqueue_publisher' = any (c.roles) order by c.name;
select throws_ok(t.statement, '42501', null, format('fastqueue_publisher may not %s.', t.description))
  from table_statements t order by t.description;
select throws_ok(v.statement, '42501', null, format('fastqueue_publisher may not read %s.', v.name))
  from view_selects v order by v.name;
reset role;

-- fastqueue_consumer: consume, ack, nack, queue_stats, nothing else.
set local role fastqueue_consumer;
select is((select count(*) from fastqueue.consume('roles-work', 10)), 3::bigint,
    'fastqueue_consumer can consume.');
select is(fastqueue.ack('00000000-0000-4000-8000-000000000001'), true, 'fastqueue_consumer can ack.');
select is(fastqueue.nack('00000000-0000-4000-8000-000000000002'), true, 'fastqueue_consumer can nack.');
select is((select num_undelivered_messages from fastqueue.queue_stats('roles-work')), 1::bigint,
    'fastqueue_consumer can read queue_stats (the nacked message is available again).');
select is(fastqueue.set_deadline('00000000-0000-4000-8000-000000000002', 0), true, 'fastqueue_consumer can set_deadline.');
select is(fastqueue.ack_messages(array['00000000-0000-4000-8000-000000000001']::uuid[]), 0,
    'fastqueue_consumer can ack_messages (the message was acked already: none counted).');
select is(fastqueue.nack_messages(array['00000000-0000-4000-8000-000000000002']::uuid[]), 1,
    'fastqueue_consumer can nack_messages.');
select throws_ok(c.call, '42501', null, format('fastqueue_consumer may not call %s.', c.name))
  from api_calls c where not 'fastqueue_consumer' = any (c.roles) order by c.name;
select throws_ok(t.statement, '42501', null, format('fastqueue_consumer may not %s.', t.description))
  from table_statements t order by t.description;
select throws_ok(v.statement, '42501', null, format('fastqueue_consumer may not read %s.', v.name))
  from view_selects v order by v.name;
reset role;

-- fastqueue_admin: every API function, still no table.
set local role fastqueue_admin;
select lives_ok(c.call, format('fastqueue_admin can call %s.', c.name)) from api_calls c order by c.name;
select throws_ok(t.statement, '42501', null, format('fastqueue_admin may not %s.', t.description))
  from table_statements t order by t.description;
select lives_ok(v.statement, format('fastqueue_admin can read %s.', v.name)) from view_selects v order by v.name;
reset role;

-- PUBLIC: nothing at all.
set local role fastqueue_test_nobody;
select throws_ok(c.call, '42501', null, format('PUBLIC may not call %s.', c.name)) from api_calls c order by c.name;
select throws_ok(t.statement, '42501', null, format('PUBLIC may not %s.', t.description))
  from table_statements t order by t.description;
select throws_ok(v.statement, '42501', null, format('PUBLIC may not read %s.', v.name))
  from view_selects v order by v.name;
reset role;

select fastqueue_tests.restore_store_slot() is not null as slot_restored;
select * from finish();
rollback;

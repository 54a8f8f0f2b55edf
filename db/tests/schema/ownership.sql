-- Who the SECURITY DEFINER functions run as: db-migrate makes the NOLOGIN role fastqueue_owner own
-- the schema and everything in it, whoever migrates (a superuser in compose and in `make run`), so
-- no fastqueue function runs as a superuser. Tried for real: a trigger on topics reports the
-- current_user that create_topic's INSERT runs as.
begin;
select plan(12);

select ok(
    (select not rolcanlogin and not rolsuper and not rolcreaterole and not rolcreatedb
            and not rolreplication and not rolbypassrls
       from pg_catalog.pg_roles where rolname = 'fastqueue_owner'),
    'fastqueue_owner exists, cannot log in and holds no special attribute.'
);
select is_empty(
    $$ select r.rolname::text from pg_catalog.pg_roles r
        where r.rolsuper and pg_catalog.pg_has_role('fastqueue_owner', r.oid, 'member') $$,
    'fastqueue_owner is not a member of a superuser role (it cannot act as one).'
);
select is(
    (select nspowner::regrole::text from pg_catalog.pg_namespace where nspname = 'fastqueue'),
    'fastqueue_owner',
    'fastqueue_owner owns schema fastqueue.'
);
select is_empty(
    $$ select c.oid::regclass::text || ' (' || c.relowner::regrole::text || ')' from pg_catalog.pg_class c
        where c.relnamespace = 'fastqueue'::regnamespace and c.relowner <> 'fastqueue_owner'::regrole $$,
    'fastqueue_owner owns every table, index, sequence and view of schema fastqueue.'
);
select isnt_empty(
    $$ select from pg_catalog.pg_class c
        where c.relnamespace = 'fastqueue'::regnamespace and c.relkind in ('r', 'S', 'v') $$,
    '(there are tables, sequences and views to own)'
);
select is_empty(
    $$ select t.oid::regtype::text || ' (' || t.typowner::regrole::text || ')' from pg_catalog.pg_type t
        where t.typnamespace = 'fastqueue'::regnamespace and t.typowner <> 'fastqueue_owner'::regrole $$,
    'fastqueue_owner owns every type of schema fastqueue.'
);
select is_empty(
    $$ select p.oid::regprocedure::text || ' (' || p.proowner::regrole::text || ')' from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proowner <> 'fastqueue_owner'::regrole $$,
    'fastqueue_owner owns every function of schema fastqueue.'
);
select is_empty(
    $$ select p.oid::regprocedure::text from pg_catalog.pg_proc p join pg_catalog.pg_roles r on r.oid = p.proowner
        where p.pronamespace = 'fastqueue'::regnamespace and r.rolsuper $$,
    'No function of schema fastqueue is owned by a superuser.'
);
select is_empty(
    $$ select p.oid::regprocedure::text from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.prosecdef
          and exists (select from pg_catalog.pg_roles r
                       where r.rolsuper and pg_catalog.pg_has_role(p.proowner, r.oid, 'member')) $$,
    'No SECURITY DEFINER function of schema fastqueue runs with a superuser''s rights.'
);

-- For real: what current_user does create_topic's INSERT run as?
create function pg_temp.report_current_user() returns trigger language plpgsql as $$
begin
    raise exception 'current_user is %, session_user is %', current_user, session_user;
end;
$$;
create trigger report_current_user before insert on fastqueue.topics
    for each row execute function pg_temp.report_current_user();

select throws_ok(
    $$ select fastqueue.create_topic('ownership-probe') $$,
    'P0001', format('current_user is fastqueue_owner, session_user is %s', session_user),
    'A SECURITY DEFINER function called by the superuser that migrated runs as fastqueue_owner.'
);
create role fastqueue_test_gateway nologin in role fastqueue_admin;
set local role fastqueue_test_gateway;
select throws_ok(
    $$ select fastqueue.create_topic('ownership-probe') $$,
    'P0001', format('current_user is fastqueue_owner, session_user is %s', session_user),
    'Called by a role holding fastqueue_admin, it runs as fastqueue_owner too.'
);
reset role;
select is(
    (select count(*)::integer from fastqueue.topics where id = 'ownership-probe'), 0,
    '(the probe stored nothing)'
);

select * from finish();
rollback;

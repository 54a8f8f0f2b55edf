-- Least privilege for SQL callers: a service gets a role that may call only its part of the API
-- (fastqueue_publisher: publishing; fastqueue_consumer: consuming and settling leases, queue_stats;
-- fastqueue_admin: every API function) and never touches the tables. The grants on each function
-- live in its file in db/functions/; this migration creates the roles and locks the tables.
-- Roles belong to the whole cluster while migrations run once per database, so a role that another
-- database's migration (or a DBA) created already is left as it is.
do $$
declare
    v_role record;
begin
    for v_role in
        select *
          from (values
                ('fastqueue_publisher', 'fastqueue: may publish messages (fastqueue.publish, publish_batch), nothing else.'),
                ('fastqueue_consumer', 'fastqueue: may lease and settle messages (fastqueue.consume, ack, nack, their lease and batch calls, queue_stats), nothing else.'),
                ('fastqueue_admin', 'fastqueue: may call every fastqueue API function; what the gateway and the worker need.')
               ) as r (name, description)
    loop
        if not exists (select from pg_catalog.pg_roles existing where existing.rolname = v_role.name) then
            begin
                execute format('create role %I nologin', v_role.name);
                execute format('comment on role %I is %L', v_role.name, v_role.description);
            exception
                -- A migration of another database created it between the check and the create.
                when duplicate_object or unique_violation then null;
            end;
        end if;
    end loop;
end;
$$;

-- The roles reach the functions through the schema; the tables stay the owner's alone (the API
-- functions are SECURITY DEFINER: they run as the owner).
grant usage on schema fastqueue to fastqueue_publisher, fastqueue_consumer, fastqueue_admin;
revoke all on schema fastqueue from public;
revoke all on all tables in schema fastqueue from public;

-- A statement of intent rather than a safeguard: PostgreSQL adds per-schema default privileges to
-- the global ones, so this cannot take away PUBLIC's EXECUTE on functions created later. What does
-- is the REVOKE at the end of every db/functions/ file, and db/tests/roles.sql checks that no
-- function in the schema is executable by PUBLIC.
alter default privileges in schema fastqueue revoke execute on functions from public;

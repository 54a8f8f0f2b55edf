-- The login role compose's server and worker use: not a superuser, holding fastqueue_admin (every
-- fastqueue API function and nothing else; the superuser only migrates). Run with psql as a role
-- that may create roles, after `fastqueue db-migrate` has created fastqueue_admin; compose's
-- gateway-role service runs it on every `docker compose up`, so it also sets the password again
-- when FASTQUEUE_GATEWAY_PASSWORD changes:
--   FASTQUEUE_GATEWAY_PASSWORD=... psql -X -f gateway-role.sql
\set ON_ERROR_STOP on
set client_min_messages = warning;
\getenv gateway_password FASTQUEUE_GATEWAY_PASSWORD
\if :{?gateway_password}
\else
    \set gateway_password ''
\endif
select :'gateway_password' = '' as no_password \gset
\if :no_password
    do $$ begin raise exception 'FASTQUEUE_GATEWAY_PASSWORD is not set: the gateway''s login role needs a password'; end $$;
\endif
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'fastqueue_admin') then
        raise exception 'role fastqueue_admin does not exist: run fastqueue db-migrate first';
    end if;
end;
$$;

select 'create role fastqueue_gateway login'
 where not exists (select from pg_catalog.pg_roles where rolname = 'fastqueue_gateway') \gexec
-- Also for a role that existed already: no special attribute, this password, fastqueue_admin.
select format('alter role fastqueue_gateway login nosuperuser nocreaterole nocreatedb nobypassrls password %L',
              :'gateway_password') \gexec
grant fastqueue_admin to fastqueue_gateway;
comment on role fastqueue_gateway is
    'fastqueue: the login of compose''s server and worker; holds fastqueue_admin, nothing else.';

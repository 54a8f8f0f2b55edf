create or replace function fastqueue.manual()
returns table (name text, arguments text, returns text, description text)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    -- The catalog's own view of the schema: what \df+ shows, without the internal `_` helpers and the
    -- source code, and with each function's COMMENT, its manual.
    select p.proname::text,
           pg_get_function_arguments(p.oid),
           pg_get_function_result(p.oid),
           obj_description(p.oid, 'pg_proc')
      from pg_proc p
     where p.pronamespace = 'fastqueue'::regnamespace
       and left(p.proname, 1) <> '_'
     order by p.proname;
$$;

comment on function fastqueue.manual() is
'For fastqueue_admin (a psql user reading the manual). Returns one row per function of the SQL API (the internal _ helpers left out), ordered by name: its arguments with their defaults, what it returns, and its manual (this COMMENT, for each). Read it in psql with \x on, or pick one: select description from fastqueue.manual() where name = ''consume'';
Example: select name, arguments, returns from fastqueue.manual();';

revoke execute on function fastqueue.manual() from public;
grant execute on function fastqueue.manual() to fastqueue_admin;

create or replace procedure fastqueue.rotate_store_for(seconds integer)
language plpgsql
as $$
-- One rotation attempt a second for `seconds`, for a session or a scheduler of its own. Not for pg_cron
-- 1.4: while a job runs, its launcher absorbs no ProcSignalBarrier, so every DROP DATABASE in the
-- cluster (PostgreSQL 15) would wait for this to end; db-migrate schedules one rotate_store() a minute.
-- Not SECURITY DEFINER and no SET clause: PostgreSQL allows COMMIT only in a procedure without
-- either. It runs as its caller, who needs EXECUTE on fastqueue.rotate_store() (fastqueue_admin),
-- and names everything with its schema, operators included, so the caller's search_path cannot
-- change what it does. Each attempt and each sleep commits, so no lock and no snapshot older than
-- about a second is held between attempts.
declare
    v_until timestamptz;
begin
    if seconds is null or seconds operator(pg_catalog.<) 0 or seconds operator(pg_catalog.>) 3600 then
        raise exception 'seconds must be 0 to 3600, not %', coalesce(seconds::text, 'null')
            using errcode = '22023';
    end if;
    v_until := pg_catalog.clock_timestamp() operator(pg_catalog.+) pg_catalog.make_interval(secs => seconds);
    while pg_catalog.clock_timestamp() operator(pg_catalog.<) v_until loop
        perform fastqueue.rotate_store();
        commit;
        perform pg_catalog.pg_sleep(1);
        commit;
    end loop;
end;
$$;

comment on procedure fastqueue.rotate_store_for(integer) is
'Calls fastqueue.rotate_store() once a second for the given number of seconds (0 to 3600), committing after each attempt and after each one-second sleep, so it holds no lock and no snapshot older than about a second between attempts. For a session or a scheduler of its own where no fastqueue worker runs; not as a pg_cron 1.4 job: while a pg_cron job runs, its launcher accepts no ProcSignalBarrier, so on PostgreSQL 15 every DROP DATABASE in the cluster would wait until this procedure ends (db-migrate schedules one rotate_store() a minute instead). Call it with CALL outside a transaction block (its COMMITs need that); it runs as its caller, who must be allowed to execute rotate_store() (fastqueue_admin).
Example: call fastqueue.rotate_store_for(55);';

revoke execute on procedure fastqueue.rotate_store_for(integer) from public;
grant execute on procedure fastqueue.rotate_store_for(integer) to fastqueue_admin;

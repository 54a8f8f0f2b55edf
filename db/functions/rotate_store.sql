create or replace function fastqueue.rotate_store()
returns fastqueue.rotation_summary
language plpgsql
volatile
security definer
set search_path = pg_catalog, pg_temp
as $$
-- One attempt of the rotation of docs/storage.md ("Rotation", steps 1 to 6). The numbers are the
-- design's (its open question 7: settings only if the bench shows a need).
declare
    c_rotation_lock constant bigint := 7381807087256433765;  -- the bytes of "fqrotate"
    c_carry_deliveries constant integer := 1000;
    c_carry_bytes constant bigint := 8 * 1024 * 1024;
    c_churn_factor constant integer := 4;
    c_busy_after constant interval := '1 second';
    c_period constant interval := '60 seconds';
    c_nowait_failures constant integer := 3;
    v_summary fastqueue.rotation_summary;
    v_state fastqueue.store_state;
    v_now timestamptz := clock_timestamp();
    v_locked_at timestamptz;
    v_setting text;
    v_min_changes bigint;
    v_old smallint;
    v_deliveries_old regclass;
    v_bodies_old regclass;
    v_counters bigint[];
    v_changes_current bigint;
    v_changes_old bigint;
    v_by_churn boolean;
    v_live integer;
    v_live_bytes bigint;
    v_busy_pid integer;
    v_lock_timeout text;
    v_deliveries fastqueue.deliveries[];
    v_bodies fastqueue.message_bodies[];
begin
    if current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'rotate_store() runs only in a READ COMMITTED transaction, not %',
                        upper(current_setting('transaction_isolation'))
            using errcode = '25000',
                  hint = 'Call it in a transaction of its own (autocommit): it reads the rows it carries with a snapshot taken after its lock.';
    end if;
    v_summary := row(null, null, 0, 0, 0, 0, 0, false)::fastqueue.rotation_summary;

    -- A second attempt at the same time (pg_cron and a worker) gives way at once.
    if not pg_try_advisory_xact_lock(c_rotation_lock) then
        v_summary.outcome := 'another rotation is running';
        v_summary.current_slot := (select s.last_value from fastqueue.store_slot s);
        return v_summary;
    end if;

    select * into v_state from fastqueue.store_state;
    if not found then
        insert into fastqueue.store_state default values returning * into v_state;
    end if;
    v_summary.current_slot := (select s.last_value from fastqueue.store_slot s);
    if v_state.next_attempt_at > v_now then
        -- Backing off after busy skips: no work at all, the row is left alone.
        v_summary.outcome := 'backing off';
        return v_summary;
    end if;

    v_setting := coalesce(nullif(btrim(current_setting('fastqueue.rotation_min_changes', true)), ''), '1000');
    if v_setting !~ '^[0-9]{1,15}$' then
        raise exception 'fastqueue.rotation_min_changes must be a whole number of row changes (0: rotate at every attempt), not "%"', v_setting
            using errcode = '22023';
    end if;
    v_min_changes := v_setting::bigint;

    v_old := 1 - v_summary.current_slot;
    v_deliveries_old := case v_old when 0 then 'fastqueue.deliveries_0'::regclass else 'fastqueue.deliveries_1'::regclass end;
    v_bodies_old := case v_old when 0 then 'fastqueue.message_bodies_0'::regclass else 'fastqueue.message_bodies_1'::regclass end;

    <<attempt>>
    begin
        -- 1. Worth it? Row changes of each slot's deliveries since it last became current (pg_stat's
        -- counters, which lag up to a second: a heuristic). A reset counter counts from zero.
        perform pg_stat_clear_snapshot();
        v_counters := array[
            pg_stat_get_tuples_inserted('fastqueue.deliveries_0'::regclass) + pg_stat_get_tuples_updated('fastqueue.deliveries_0'::regclass)
                + pg_stat_get_tuples_deleted('fastqueue.deliveries_0'::regclass),
            pg_stat_get_tuples_inserted('fastqueue.deliveries_1'::regclass) + pg_stat_get_tuples_updated('fastqueue.deliveries_1'::regclass)
                + pg_stat_get_tuples_deleted('fastqueue.deliveries_1'::regclass)];
        v_changes_current := v_counters[v_summary.current_slot + 1] - v_state.changes_baseline[v_summary.current_slot + 1];
        if v_changes_current < 0 then
            v_changes_current := v_counters[v_summary.current_slot + 1];
        end if;
        v_changes_old := v_counters[v_old + 1] - v_state.changes_baseline[v_old + 1];
        if v_changes_old < 0 then
            v_changes_old := v_counters[v_old + 1];
        end if;
        v_by_churn := v_min_changes > 0 and v_changes_current >= v_min_changes;
        if not (v_min_changes = 0
                or v_by_churn
                or ((v_state.last_rotated_at is null or v_state.last_rotated_at < v_now - c_period) and v_changes_old > 0)) then
            v_summary.outcome := 'idle';
            v_state.lock_holders := '{}';  -- seen again from scratch when it next matters
            exit attempt;
        end if;

        -- 2. Cheap to carry? The old slot's live deliveries (counted up to the budget) and the size
        -- of their bodies; when rotating for churn, at most a quarter of that churn.
        with live as (
            select d.body_id
              from fastqueue.deliveries d
             where d.slot = v_old
               and d.expired_at > now()
             limit c_carry_deliveries + 1
        )
        select (select count(*) from live),
               (select coalesce(sum(b.size_bytes), 0)
                  from fastqueue.message_bodies b
                 where b.slot = v_old
                   and b.id in (select live.body_id from live))
          into v_live, v_live_bytes;
        if v_live > c_carry_deliveries or v_live_bytes > c_carry_bytes
           or (v_by_churn and v_live::bigint * c_churn_factor > v_changes_current) then
            v_summary.outcome := 'backlog';
            v_state.lock_holders := '{}';
            exit attempt;
        end if;

        -- 3. Anyone old in the way? The transactions holding a lock on the old slot now, each with
        -- when an attempt first saw it (pg_stat_activity hides other roles' xact_start from this
        -- function's owner, so the age is tracked here; where it is visible, it counts too).
        select coalesce(jsonb_object_agg(h.virtualtransaction, extract(epoch from h.first_seen)), '{}'),
               (array_agg(h.pid order by h.first_seen)
                  filter (where h.first_seen <= v_now - c_busy_after or h.xact_start <= v_now - c_busy_after))[1]
          into v_state.lock_holders, v_busy_pid
          from (select l.virtualtransaction, min(l.pid) as pid, min(a.xact_start) as xact_start,
                       coalesce(to_timestamp((v_state.lock_holders ->> l.virtualtransaction)::double precision), v_now) as first_seen
                  from pg_locks l
                  left join pg_stat_activity a on a.pid = l.pid
                 where l.locktype = 'relation'
                   and l.database = (select db.oid from pg_database db where db.datname = current_database())
                   and l.relation in (v_deliveries_old, v_bodies_old)
                   and l.granted
                   and l.pid is distinct from pg_backend_pid()
                 group by l.virtualtransaction) h;
        if v_busy_pid is not null then
            v_summary.outcome := format('busy: pid %s', v_busy_pid);
            v_state.consecutive_busy := v_state.consecutive_busy + 1;
            if v_state.consecutive_busy >= 2 then
                v_state.next_attempt_at := v_now + least(power(2, v_state.consecutive_busy - 1), 30) * interval '1 second';
            end if;
            exit attempt;
        end if;
        v_state.consecutive_busy := 0;

        -- 4. Lock the old slot: NOWAIT, or after c_nowait_failures NOWAIT failures in a row one
        -- attempt that waits up to fastqueue.rotation_lock_timeout (50 ms).
        v_summary.waited_for_lock := v_state.consecutive_lock_failures >= c_nowait_failures;
        begin
            if v_summary.waited_for_lock then
                v_lock_timeout := current_setting('lock_timeout');
                perform set_config('lock_timeout',
                                   coalesce(nullif(btrim(current_setting('fastqueue.rotation_lock_timeout', true)), ''), '50ms'),
                                   true);
                execute format('lock table %s, %s in access exclusive mode', v_deliveries_old, v_bodies_old);
                perform set_config('lock_timeout', v_lock_timeout, true);
            else
                execute format('lock table %s, %s in access exclusive mode nowait', v_deliveries_old, v_bodies_old);
            end if;
        exception
            when lock_not_available then
                v_summary.outcome := 'lock not available';
                v_state.consecutive_lock_failures := case when v_summary.waited_for_lock then 0
                                                          else v_state.consecutive_lock_failures + 1 end;
                exit attempt;
        end;
        v_locked_at := clock_timestamp();

        -- 5. The survivors, read after the lock (this statement's snapshot sees every transaction
        -- that wrote the slot: the lock waited for them): unexpired deliveries of existing queues.
        select array_agg(d) filter (where d.expired_at > now() and q.id is not null),
               count(*) filter (where d.expired_at <= now()),
               count(*) filter (where d.expired_at > now() and q.id is null)
          into v_deliveries, v_summary.dropped_expired, v_summary.dropped_orphaned
          from fastqueue.deliveries d
          left join fastqueue.queues q on q.id = d.queue_id
         where d.slot = v_old;
        select array_agg(b)
          into v_bodies
          from fastqueue.message_bodies b
         where b.slot = v_old
           and b.id in (select s.body_id from unnest(v_deliveries) s);

        -- 6. Empty the slot, put the survivors back unchanged, make it current.
        execute format('truncate table %s, %s', v_deliveries_old, v_bodies_old);
        insert into fastqueue.message_bodies select * from unnest(v_bodies);
        insert into fastqueue.deliveries select * from unnest(v_deliveries);
        perform setval('fastqueue.store_slot', v_old);

        v_summary.outcome := 'rotated';
        v_summary.current_slot := v_old;
        v_summary.carried_deliveries := coalesce(cardinality(v_deliveries), 0);
        v_summary.carried_bodies := coalesce(cardinality(v_bodies), 0);
        v_summary.carried_in_flight := (select count(*) from unnest(v_deliveries) s
                                         where s.delivery_attempts > 0 and s.scheduled_at > now());
        v_state.rotations := v_state.rotations + 1;
        v_state.last_rotated_at := v_now;
        v_state.carried_deliveries := v_state.carried_deliveries + v_summary.carried_deliveries;
        v_state.carried_bodies := v_state.carried_bodies + v_summary.carried_bodies;
        v_state.dropped_deliveries := v_state.dropped_deliveries + v_summary.dropped_expired + v_summary.dropped_orphaned;
        v_state.last_carried_deliveries := v_summary.carried_deliveries;
        v_state.last_carried_bodies := v_summary.carried_bodies;
        v_state.consecutive_lock_failures := 0;
        v_state.next_attempt_at := null;
        v_state.lock_holders := '{}';
        -- The carried rows' inserts reach pg_stat after this commits: they are not churn.
        v_state.changes_baseline[v_old + 1] := v_counters[v_old + 1] + v_summary.carried_deliveries;
        v_state.last_rotation_ms := extract(epoch from clock_timestamp() - v_locked_at) * 1000;
    end;

    if v_summary.outcome <> 'rotated' then
        v_state.skips := v_state.skips + 1;
    end if;
    update fastqueue.store_state
       set rotations = v_state.rotations,
           skips = v_state.skips,
           last_outcome = v_summary.outcome,
           last_attempt_at = v_now,
           last_rotated_at = v_state.last_rotated_at,
           carried_deliveries = v_state.carried_deliveries,
           carried_bodies = v_state.carried_bodies,
           dropped_deliveries = v_state.dropped_deliveries,
           last_carried_deliveries = v_state.last_carried_deliveries,
           last_carried_bodies = v_state.last_carried_bodies,
           last_rotation_ms = v_state.last_rotation_ms,
           consecutive_busy = v_state.consecutive_busy,
           consecutive_lock_failures = v_state.consecutive_lock_failures,
           next_attempt_at = v_state.next_attempt_at,
           lock_holders = v_state.lock_holders,
           changes_baseline = v_state.changes_baseline;
    return v_summary;
end;
$$;

comment on function fastqueue.rotate_store() is
'One attempt to rotate the message store (docs/storage.md, Rotation): the slot that is not current (fastqueue.deliveries_k and message_bodies_k) is emptied with TRUNCATE, which frees its dead rows however old the oldest snapshot is, its live deliveries and their bodies are put back unchanged (ids, delivery_attempts, leases, delays, ordering), and it becomes the current slot. Expired deliveries and those of deleted queues are dropped instead. `fastqueue worker` calls it every second, and pg_cron (the job fastqueue-rotate-store) once a minute; correctness never waits for it.
Returns one row: outcome, current_slot (where publishes insert after the attempt), carried_deliveries, carried_bodies, carried_in_flight (carried deliveries leased or nacked with a delay: delivered and not available yet), dropped_expired, dropped_orphaned (deliveries of deleted queues) and waited_for_lock. The outcome is one of:
  rotated - done;
  idle - not worth it: fewer than fastqueue.rotation_min_changes (default 1000; 0: rotate at every attempt) row changes in the current slot since it became current, and no change in the old slot or a rotation within the last 60 s;
  backlog - the old slot holds more than 1000 live deliveries or 8 MiB of their bodies, or (when rotating for churn) more than a quarter of the current slot''s row changes: consumers drain it first;
  busy: pid N - a transaction seen holding a lock on the old slot for more than a second (it read or wrote the store and is still open); from the second such skip in a row, attempts back off 2, 4, 8, 16, then 30 s;
  backing off - an attempt within that back-off: nothing was done;
  lock not available - LOCK ... NOWAIT found the old slot in use, or, after 3 such failures in a row, an attempt that waited fastqueue.rotation_lock_timeout (default 50ms) did; nothing was changed;
  another rotation is running - a concurrent attempt holds the rotation''s lock.
Each attempt but the last two updates fastqueue.store_state (see the view fastqueue.store_overview). Runs only in READ COMMITTED (SQLSTATE 25000 otherwise), in its own transaction at best: it holds the old slot''s ACCESS EXCLUSIVE lock until the transaction ends, and consumers and acks wait for it meanwhile (publishes never do).
Example: select * from fastqueue.rotate_store();';

revoke execute on function fastqueue.rotate_store() from public;
grant execute on function fastqueue.rotate_store() to fastqueue_admin;

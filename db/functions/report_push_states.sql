create or replace function fastqueue.report_push_states(worker text, states jsonb)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
    v_count integer;
begin
    perform fastqueue._require_between('worker length', char_length(report_push_states.worker), int4range(1, 128, '[]'));
    if jsonb_typeof(report_push_states.states) is distinct from 'array' then
        raise exception using errcode = 'invalid_parameter_value', message = 'states must be a JSON array';
    end if;
    insert into fastqueue.push_states as p (worker, queue_id, in_flight, "window", failing, outcomes, latency, updated_at)
    select report_push_states.worker, e.queue_id, e.in_flight, e."window", e.failing,
           coalesce(e.outcomes, '{}'), coalesce(e.latency, '{}'), now()
      from jsonb_to_recordset(report_push_states.states)
           as e(queue_id text, in_flight integer, "window" integer, failing boolean, outcomes jsonb, latency jsonb)
     where e.queue_id is not null
    on conflict on constraint push_states_pkey do update
       set in_flight = excluded.in_flight, "window" = excluded."window", failing = excluded.failing,
           outcomes = excluded.outcomes, latency = excluded.latency, updated_at = excluded.updated_at;
    get diagnostics v_count = row_count;
    -- States of workers long gone, and of queues deleted since.
    delete from fastqueue.push_states p
     where p.updated_at < now() - interval '1 day'
        or not exists (select from fastqueue.queues q where q.id = p.queue_id);
    return v_count;
end;
$$;

comment on function fastqueue.report_push_states(text, jsonb) is
'For `fastqueue worker`: records its push delivery state, one element per queue, [{"queue_id", "in_flight", "window", "failing", "outcomes": {"2xx": n, "5xx": n, "timeout": n, "refused": n, ...}, "latency": {"buckets": {"0.005": n, ...}, "sum": s, "count": n}}]; queue_stats() shows in_flight and window, /metrics the counts. Sent only when something changed (an idle worker sends nothing). Returns the number of rows written.
Example: select fastqueue.report_push_states(''host:123'', ''[{"queue_id": "q", "in_flight": 2, "window": 4, "failing": false, "outcomes": {}, "latency": {}}]'');';

revoke execute on function fastqueue.report_push_states(text, jsonb) from public;
grant execute on function fastqueue.report_push_states(text, jsonb) to fastqueue_admin;

create or replace function fastqueue.push_metrics()
returns table (worker text, queue_id text, in_flight integer, "window" integer, failing boolean,
               outcomes jsonb, latency jsonb)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select p.worker, p.queue_id, p.in_flight, p."window", p.failing, p.outcomes, p.latency
      from fastqueue.push_states p
     order by p.queue_id, p.worker
$$;

comment on function fastqueue.push_metrics() is
'Push delivery as the workers report it (report_push_states): per worker and queue, requests in flight, the window, whether the endpoint is failing, counts by outcome and the latency histogram. What /metrics exports as fastqueue_push_*.
Example: select queue_id, outcomes from fastqueue.push_metrics();';

revoke execute on function fastqueue.push_metrics() from public;
grant execute on function fastqueue.push_metrics() to fastqueue_admin;

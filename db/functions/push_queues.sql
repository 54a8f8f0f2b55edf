create or replace function fastqueue.push_queues()
returns table (
    queue_id text,
    push_endpoint text,
    push_format text,
    push_secret text,
    push_max_in_flight integer,
    ack_deadline_seconds integer,
    has_retry_backoff boolean
)
language sql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
    select q.id, q.push_endpoint, q.push_format, s.secret, q.push_max_in_flight, q.ack_deadline_seconds,
           q.retry_min_backoff_seconds is not null
      from fastqueue.queues q
      left join fastqueue.queue_push_secrets s on s.queue_id = q.id
     where q.push_endpoint is not null
     order by q.id
$$;

comment on function fastqueue.push_queues() is
'For `fastqueue worker`: every push queue with what delivery needs, its secret included (the only function that returns it; no API answer or view does).';

revoke execute on function fastqueue.push_queues() from public;
grant execute on function fastqueue.push_queues() to fastqueue_admin;

create or replace function fastqueue._retry_backoff(queue fastqueue.queues, delivery_attempts integer)
returns integer
language sql
immutable
as $$
    -- Exponential: min, 2 min, 4 min, ... capped at max. The exponent stops at 20 (2^20 * 600 still
    -- fits an integer; any min of 1 or more reaches the cap of at most 600 well before that). A
    -- message never delivered counts as its first attempt.
    select case when (queue).retry_min_backoff_seconds is null then 0
                else least((queue).retry_max_backoff_seconds,
                           (queue).retry_min_backoff_seconds
                               * power(2, least(greatest(delivery_attempts, 1) - 1, 20))::integer)
           end
$$;

comment on function fastqueue._retry_backoff(fastqueue.queues, integer) is
'Internal: how many seconds a message of this queue waits after a nack without an explicit delay: min(retry_max_backoff_seconds, retry_min_backoff_seconds * 2^(delivery_attempts - 1)), or 0 when the queue has no retry backoff.';

revoke execute on function fastqueue._retry_backoff(fastqueue.queues, integer) from public;

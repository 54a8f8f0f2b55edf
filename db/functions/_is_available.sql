create or replace function fastqueue._is_available(
    scheduled_at timestamptz,
    expired_at timestamptz,
    delivery_attempts integer,
    delivery_limit integer
)
returns boolean
language sql
stable
parallel safe
as $$
    -- What "available" means everywhere (consume, stats, redrive, depths): due now, not expired,
    -- and not yet delivered as often as its queue allows. A plain SQL expression, so the planner
    -- inlines it and still uses the (queue_id, scheduled_at) index.
    select scheduled_at <= now() and expired_at > now() and delivery_attempts < delivery_limit
$$;

comment on function fastqueue._is_available(timestamptz, timestamptz, integer, integer) is
'Internal: whether a message with this schedule, expiry and delivery count can be leased now, given its queue''s delivery limit (see _delivery_limit).';

-- No SECURITY DEFINER or SET clause: either would stop the planner from inlining this into its
-- callers' queries, which already run with their own fixed search_path.
revoke execute on function fastqueue._is_available(timestamptz, timestamptz, integer, integer) from public;

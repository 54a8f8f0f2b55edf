create or replace view fastqueue.store_overview as
select (select s.last_value from fastqueue.store_slot s) as current_slot,
       st.rotations,
       st.skips,
       st.last_outcome,
       st.last_attempt_at,
       st.last_rotated_at,
       extract(epoch from now() - st.last_rotated_at)::double precision as seconds_since_rotation,
       st.last_carried_deliveries,
       st.last_carried_bodies,
       st.carried_deliveries,
       st.carried_bodies,
       st.dropped_deliveries,
       st.last_rotation_ms,
       st.next_attempt_at
  from fastqueue.store_state st;

comment on view fastqueue.store_overview is
'One row: the store''s rotation (fastqueue.rotate_store). current_slot: where publishes insert (0 or 1); rotations and skips: attempts that rotated and that did not (idle, backlog, busy, lock not available) since the store was created; last_outcome and last_attempt_at: the latest attempt; last_rotated_at and seconds_since_rotation (null: never rotated): the latest rotation; last_carried_deliveries and last_carried_bodies: what it carried forward, carried_deliveries, carried_bodies and dropped_deliveries (expired or of deleted queues) the totals; last_rotation_ms: how long the latest rotation held its lock; next_attempt_at: while busy skips back off, no attempt before this. For fastqueue_admin; `fastqueue stats` prints it and /metrics exports it.
Example: select current_slot, rotations, skips, last_outcome, seconds_since_rotation from fastqueue.store_overview;';

revoke all on fastqueue.store_overview from public;
grant select on fastqueue.store_overview to fastqueue_admin;

-- consume 1 message, then ack it: two transactions, as two HTTP requests. A nil id when the queue
-- ran dry (ack returns false; the bench counts what was really deleted).
select coalesce((select c.id from fastqueue.consume('bench-consume', 1) c limit 1), '00000000-0000-0000-0000-000000000000'::uuid) as msg_id \gset
select fastqueue.ack(:msg_id::uuid);

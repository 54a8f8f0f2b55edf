-- consume 1 message acking the previous cycle's (ack_message_ids): one transaction per cycle, as
-- one HTTP request of POST /queues/{id}/messages/consume. :msg_id starts as the nil id (pgbench -D;
-- an unknown id is ignored) and then holds the message this client leased in its last cycle. A nil
-- id again when the queue ran dry (the bench counts what was really deleted).
select coalesce((select c.id from fastqueue.consume('bench-consume', 1, array[:msg_id::uuid]) c limit 1), '00000000-0000-0000-0000-000000000000'::uuid) as msg_id \gset

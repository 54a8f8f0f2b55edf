-- consume 100 messages, then ack them with one ack_messages call: two transactions.
select coalesce((select array_agg(c.id) from fastqueue.consume('bench-consume', 100) c), '{00000000-0000-0000-0000-000000000000}'::uuid[]) as msg_ids \gset
select fastqueue.ack_messages(:msg_ids::uuid[]);

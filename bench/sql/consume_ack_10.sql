-- consume 10 messages, then ack them with one ack_messages call: two transactions. Used for the
-- latency-versus-depth case and by the endurance run's consumers (which back off 10 ms when empty).
select count(*) as n, coalesce(array_agg(c.id), '{00000000-0000-0000-0000-000000000000}'::uuid[]) as msg_ids from fastqueue.consume(:queue, 10) c \gset
\if :n > 0
select fastqueue.ack_messages(:msg_ids::uuid[]);
\else
\sleep 10 ms
\endif

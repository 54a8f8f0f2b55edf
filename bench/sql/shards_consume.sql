-- The shards part (bench/shardbench.py): consume 10 messages from one of the queues in :queues (a
-- text array, pgbench -D), chosen at random per cycle, then ack them with one ack_messages call (routed
-- by the ids' shard): two calls, as the HTTP consume+ack case.
\set k random(1, :topic_count)
select count(*) as n, coalesce(array_agg(c.id), '{00000000-0000-0000-0000-000000000000}'::uuid[]) as msg_ids from fastqueue.consume((:queues::text[])[:k::integer], 10) c \gset
\if :n > 0
select fastqueue.ack_messages(:msg_ids::uuid[]);
\endif

-- The shards part (bench/shardbench.py): publish one message to one of the topics in :topics (a text
-- array, pgbench -D; topic k is on shard k % N), chosen at random per call.
\set k random(1, :topic_count)
select count(*) from fastqueue.publish((:topics::text[])[:k::integer], '{"order_id": 123456, "customer_id": "c-0042", "status": "created", "amount": 99.90, "currency": "EUR", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}'::jsonb, '{"event": "created", "region": "eu-west-1"}'::jsonb);

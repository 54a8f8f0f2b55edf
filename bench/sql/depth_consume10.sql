-- Consume latency against a queue of a given depth: consume 10, ack them, publish 10 new ones so the
-- depth stays where it is. Only the consume statement's latency is reported (pgbench -r).
select count(*) as n, coalesce(array_agg(c.id), '{00000000-0000-0000-0000-000000000000}'::uuid[]) as msg_ids from fastqueue.consume('bench-depth', 10) c \gset
select fastqueue.ack_messages(:msg_ids::uuid[]);
select count(*) from fastqueue.publish_batch('bench-depth-t', (select jsonb_agg(jsonb_build_object('data', '{"order_id": 123456, "customer_id": "c-0042", "status": "created", "amount": 99.90, "currency": "EUR", "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]}'::jsonb, 'attributes', '{"event": "created", "region": "eu-west-1"}'::jsonb)) from generate_series(1, 10)));

-- The same 4 KiB payload as publish_one_4k.sql to the fan-out topic: six queues with filters, five
-- take it. Today's store keeps a copy per queue; the rotated one a body once and five deliveries.
select count(*) from fastqueue.publish('bench-fanout', jsonb_build_object('pad', (select string_agg(md5(random()::text), '') from generate_series(1, 128)), 'order_id', 123456), '{"event": "created", "region": "eu-west-1"}'::jsonb);

-- One publish of a 4 KiB payload to a topic with one queue: 4,096 random hex digits (128 md5s, new
-- each run; pglz cannot compress them by 25 %, so TOAST keeps them as they are), for bytes per message.
select count(*) from fastqueue.publish('bench-one', jsonb_build_object('pad', (select string_agg(md5(random()::text), '') from generate_series(1, 128)), 'order_id', 123456), '{"event": "created", "region": "eu-west-1"}'::jsonb);

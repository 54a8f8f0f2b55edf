-- Baseline for the batch: the same dequeue, 100 rows in one statement.
delete from bench_raw.messages where id = any (array(select id from bench_raw.messages where queue_id = 'raw' order by scheduled_at for update skip locked limit 100)) returning id, data, attributes;

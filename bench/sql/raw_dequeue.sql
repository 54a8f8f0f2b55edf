-- Baseline: the classic one-statement dequeue of one row from the plain table.
delete from bench_raw.messages where id = (select id from bench_raw.messages where queue_id = 'raw' order by scheduled_at for update skip locked limit 1) returning id, data, attributes;

-- list_queues: ordered by id, offset/limit paging and their ranges (22023).
begin;
select plan(12);

-- Twelve queues, created out of order, some on a topic and some not.
do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue(format('q%s', lpad(n::text, 2, '0')), case when n % 2 = 0 then 'events' end, 30, 600)
       from unnest(array[7, 3, 12, 1, 9, 5, 11, 2, 8, 4, 10, 6]) as n;
end $$;

select results_eq(
    $$ select id from fastqueue.list_queues() $$,
    array['q01', 'q02', 'q03', 'q04', 'q05', 'q06', 'q07', 'q08', 'q09', 'q10'],
    'list_queues returns the first 10 queues ordered by id by default.'
);
select results_eq(
    $$ select id from fastqueue.list_queues(2, 3) $$,
    array['q03', 'q04', 'q05'],
    'list_queues skips offset queues and returns at most limit.'
);
select results_eq(
    $$ select id from fastqueue.list_queues("offset" => 10, "limit" => 5) $$,
    array['q11', 'q12'],
    'list_queues takes offset and limit by name and returns a short last page.'
);
select is_empty(
    $$ select id from fastqueue.list_queues(12) $$,
    'list_queues past the last queue returns nothing.'
);
select is(
    (select count(*)::integer from fastqueue.list_queues(0, 1000)),
    12,
    'list_queues accepts a limit of 1000.'
);
select results_eq(
    $$ select * from fastqueue.list_queues(1, 1) $$,
    $$ select * from fastqueue.queue_settings where id = 'q02' $$,
    'list_queues returns whole queues, as a caller sees them.'
);

select throws_ok($$ select * from fastqueue.list_queues(-1, 10) $$, '22023', null,
    'list_queues refuses a negative offset.');
select throws_ok($$ select * from fastqueue.list_queues(null, 10) $$, '22023', null,
    'list_queues refuses a null offset.');
select throws_ok($$ select * from fastqueue.list_queues(0, 0) $$, '22023', 'limit must be between 1 and 1000',
    'list_queues refuses a limit of 0 and says the allowed range.');
select throws_ok($$ select * from fastqueue.list_queues(0, 1001) $$, '22023', null,
    'list_queues refuses a limit of 1001.');
select throws_ok($$ select * from fastqueue.list_queues(0, null) $$, '22023', null,
    'list_queues refuses a null limit.');

delete from fastqueue.queues;
select is_empty($$ select * from fastqueue.list_queues() $$, 'list_queues with no queues returns nothing.');

select * from finish();
rollback;

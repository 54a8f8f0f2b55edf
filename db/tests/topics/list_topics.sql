-- list_topics: ordered by id, offset/limit paging and their ranges (22023).
begin;
select plan(12);

-- Twelve topics, created out of order.
do $$
begin
    perform fastqueue.create_topic(format('t%s', lpad(n::text, 2, '0')))
       from unnest(array[7, 3, 12, 1, 9, 5, 11, 2, 8, 4, 10, 6]) as n;
end $$;

select results_eq(
    $$ select id from fastqueue.list_topics() $$,
    array['t01', 't02', 't03', 't04', 't05', 't06', 't07', 't08', 't09', 't10'],
    'list_topics returns the first 10 topics ordered by id by default.'
);
select results_eq(
    $$ select id from fastqueue.list_topics(2, 3) $$,
    array['t03', 't04', 't05'],
    'list_topics skips offset topics and returns at most limit.'
);
select results_eq(
    $$ select id from fastqueue.list_topics("offset" => 10, "limit" => 5) $$,
    array['t11', 't12'],
    'list_topics takes offset and limit by name and returns a short last page.'
);
select is_empty(
    $$ select id from fastqueue.list_topics(12) $$,
    'list_topics past the last topic returns nothing.'
);
select is(
    (select count(*)::integer from fastqueue.list_topics(0, 1000)),
    12,
    'list_topics accepts a limit of 1000.'
);
select results_eq(
    $$ select id, created_at from fastqueue.list_topics(0, 1) $$,
    $$ select id, created_at from fastqueue.topics where id = 't01' $$,
    'list_topics returns whole topic rows.'
);

select throws_ok($$ select * from fastqueue.list_topics(-1, 10) $$, '22023', null,
    'list_topics refuses a negative offset.');
select throws_ok($$ select * from fastqueue.list_topics(null, 10) $$, '22023', null,
    'list_topics refuses a null offset.');
select throws_ok($$ select * from fastqueue.list_topics(0, 0) $$, '22023', 'limit must be between 1 and 1000',
    'list_topics refuses a limit of 0 and says the allowed range.');
select throws_ok($$ select * from fastqueue.list_topics(0, 1001) $$, '22023', null,
    'list_topics refuses a limit of 1001.');
select throws_ok($$ select * from fastqueue.list_topics(0, null) $$, '22023', null,
    'list_topics refuses a null limit.');

delete from fastqueue.topics;
select is_empty($$ select * from fastqueue.list_topics() $$, 'list_topics with no topics returns nothing.');

select * from finish();
rollback;

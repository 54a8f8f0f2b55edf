-- consume and peek with fastqueue.max_response_bytes: only the oldest messages whose answer fits
-- (fastqueue._answer_bytes each), always at least one; what does not fit is not leased. Unset: no bound.
begin;
select plan(9);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    -- Four messages of about 10 kB, oldest first by schedule: n = 1, 2, 3, 4.
    perform fastqueue.publish('events', jsonb_build_object('n', n, 'text', repeat('x', 10000))) from generate_series(1, 4) n;
end $$;
update fastqueue.messages m
   set scheduled_at = now() - (10 - (m.data ->> 'n')::integer) * interval '1 second'
 where m.queue_id = 'work';

select cmp_ok(
    (select fastqueue._answer_bytes(m.queue_id, octet_length(m.data::text) + coalesce(octet_length(m.attributes::text), 0), m.ordering_key)
       from fastqueue.messages m where m.queue_id = 'work' limit 1),
    '>=', (select octet_length(m.data::text) + 256 from fastqueue.messages m where m.queue_id = 'work' limit 1)::bigint,
    'A message''s answer size counts its data as JSON text and 256 bytes for the other fields.'
);

set local fastqueue.max_response_bytes = 25000;
select results_eq(
    $$ select (data ->> 'n')::integer from fastqueue.peek('work', 10) $$,
    array[1, 2],
    'peek shows only the first messages whose answer fits in fastqueue.max_response_bytes.'
);
create temp table first_batch on commit drop as select * from fastqueue.consume('work', 10);
select results_eq(
    $$ select (data ->> 'n')::integer from first_batch $$,
    array[1, 2],
    'consume leases only the oldest messages whose answer fits in fastqueue.max_response_bytes.'
);
select results_eq(
    $$ select (data ->> 'n')::integer, delivery_attempts from fastqueue.messages where queue_id = 'work' order by 1 $$,
    $$ values (1, 1), (2, 1), (3, 0), (4, 0) $$,
    'What did not fit is not leased: no delivery counted, still available.'
);

set local fastqueue.max_response_bytes = 1;
select results_eq(
    $$ select (data ->> 'n')::integer from fastqueue.consume('work', 10) $$,
    array[3],
    'One message is always leased, however small the bound.'
);
select is(
    (select count(*)::integer from fastqueue.peek('work', 10)), 1,
    'peek always shows one message, however small the bound.'
);

reset fastqueue.max_response_bytes;
select results_eq(
    $$ select (data ->> 'n')::integer from fastqueue.consume('work', 10) $$,
    array[4],
    'Unset, consume leases every available message it is asked for.'
);

set local fastqueue.max_response_bytes = 'ten megabytes';
select throws_ok(
    $$ select * from fastqueue.consume('work', 10) $$,
    '22023', NULL,
    'A fastqueue.max_response_bytes that is not a whole number of bytes is refused (22023).'
);
select throws_ok(
    $$ select * from fastqueue.peek('work', 10) $$,
    '22023', NULL,
    'peek refuses it too.'
);

select * from finish();
rollback;

-- ack: deletes the message and says whether it existed; an unknown id is false, not an error.
begin;
select plan(8);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work', 'other');
    perform fastqueue_tests.publish_numbered('events', 2);
end $$;

create temp table leased on commit drop as select * from fastqueue.consume('work', 1);

select is(fastqueue.ack((select id from leased)), true, 'ack of a leased message returns true.');
select is_empty($$ select * from fastqueue.messages where id = (select id from leased) $$,
    'ack deletes the message.');
select results_eq(
    $$ select queue_id, data from fastqueue.messages order by queue_id, data ->> 'n' $$,
    $$ values ('other'::text, '{"n": 1}'::jsonb), ('other', '{"n": 2}'), ('work', '{"n": 2}') $$,
    'ack leaves every other message alone, the same message''s copy in another queue included.'
);
select is(fastqueue.ack((select id from leased)), false, 'A second ack of the same message returns false.');
select lives_ok($$ select fastqueue.ack(gen_random_uuid()) $$, 'ack of an unknown id is not an error.');
select is(fastqueue.ack('00000000-0000-0000-0000-000000000000'), false, 'ack of an unknown id returns false.');
select is(
    fastqueue.ack((select id from fastqueue.messages where queue_id = 'work')),
    true,
    'ack of a message that was never leased deletes it too.'
);
select is(
    (select count(*)::integer from fastqueue.messages),
    2,
    'Only acked messages were deleted.'
);

select * from finish();
rollback;

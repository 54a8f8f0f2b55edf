-- nack: a leased message is available again at once; an unknown id is false, not an error.
begin;
select plan(7);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

create temp table leased on commit drop as select * from fastqueue.consume('work');
-- The lease started a minute ago (rows are backdated: time cannot pass inside the transaction).
update fastqueue.messages set updated_at = now() - interval '1 minute';

select is(fastqueue.nack((select id from leased)), true, 'nack of a leased message returns true.');
select results_eq(
    $$ select delivery_attempts, scheduled_at, updated_at from fastqueue.messages where id = (select id from leased) $$,
    $$ values (1, now(), now()) $$,
    'nack makes the message available now and keeps its delivery count.'
);
select is((select num_undelivered_messages from fastqueue.queue_stats('work')), 1::bigint,
    'queue_stats counts a nacked message as available.');
select results_eq(
    $$ select id, delivery_attempts from fastqueue.consume('work') $$,
    $$ select id, 2 from leased $$,
    'consume delivers a nacked message again, with one more attempt.'
);
select lives_ok($$ select fastqueue.nack(gen_random_uuid()) $$, 'nack of an unknown id is not an error.');
select is(fastqueue.nack('00000000-0000-0000-0000-000000000000'), false, 'nack of an unknown id returns false.');
do $$ begin perform fastqueue.ack(id) from fastqueue.messages; end $$;
select is(fastqueue.nack((select id from leased)), false, 'nack of an acked message returns false.');

select * from finish();
rollback;

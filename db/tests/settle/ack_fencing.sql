-- ack with delivery_attempt (fencing): only the latest delivery may ack; a late ack from a consumer
-- whose lease ran out leaves the redelivered message in place.
begin;
select plan(9);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

create temp table first_delivery on commit drop as select * from fastqueue.consume('work');
-- The first lease runs out (time cannot pass inside the transaction: end it on the row) and the
-- message is delivered again, to a second consumer.
select fastqueue_tests.make_due();
create temp table second_delivery on commit drop as select * from fastqueue.consume('work');

select is((select delivery_attempts from second_delivery), 2, 'The message was delivered a second time.');
select throws_ok(
    format($$ select fastqueue.ack(%L, delivery_attempt => 1) $$, (select id from first_delivery)),
    'FQ409', 'Stale delivery: the message is now on delivery attempt 2, not 1',
    'A late ack with the first delivery_attempt raises FQ409 naming the current attempt.'
);
select results_eq(
    $$ select id, delivery_attempts, scheduled_at from fastqueue.messages $$,
    $$ select id, delivery_attempts, scheduled_at from second_delivery $$,
    'The stale ack leaves the redelivered message in place, its lease untouched.'
);
select throws_ok(
    format($$ select fastqueue.ack(%L, delivery_attempt => 3) $$, (select id from first_delivery)),
    'FQ409', null,
    'An ack naming a delivery that has not happened raises FQ409 too.'
);
select throws_ok(
    format($$ select fastqueue.ack(%L, delivery_attempt => 0) $$, (select id from first_delivery)),
    '22023', 'delivery_attempt must be 1 or more',
    'delivery_attempt 0 raises 22023.'
);
select is(fastqueue.ack((select id from second_delivery), delivery_attempt => 2), true,
    'The ack of the latest delivery succeeds.');
select is_empty($$ select * from fastqueue.messages $$, 'and deletes the message.');
select is(fastqueue.ack((select id from second_delivery), delivery_attempt => 2), false,
    'A fenced ack of a message that no longer exists returns false, not an error.');
select is(fastqueue.ack(gen_random_uuid(), delivery_attempt => 1), false,
    'A fenced ack of an unknown id returns false.');

select * from finish();
rollback;

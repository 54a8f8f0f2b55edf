-- set_deadline: moves the end of a message's lease (0 ends it at once), with optional fencing.
begin;
select plan(12);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

create temp table leased on commit drop as select * from fastqueue.consume('work');

select is(fastqueue.set_deadline((select id from leased), 120), true, 'set_deadline of a leased message returns true.');
select results_eq(
    $$ select delivery_attempts, scheduled_at from fastqueue.messages $$,
    $$ values (1, now() + interval '120 seconds') $$,
    'set_deadline moves the end of the lease to seconds from now, without counting a delivery.'
);
select is_empty($$ select * from fastqueue.consume('work') $$, 'The extended lease keeps the message hidden.');

select is(fastqueue.set_deadline((select id from leased), 0, delivery_attempt => 1), true,
    'set_deadline 0 with the latest delivery_attempt returns true.');
select is((select scheduled_at from fastqueue.messages), now(), 'set_deadline 0 releases the lease at once.');
select is((select num_undelivered_messages from fastqueue.queue_stats('work')), 1::bigint,
    'The released message is available again.');
select results_eq(
    $$ select id, delivery_attempts from fastqueue.consume('work') $$,
    $$ select id, 2 from leased $$,
    'consume delivers the released message again, with one more attempt.'
);

select throws_ok(
    format($$ select fastqueue.set_deadline(%L, 600, delivery_attempt => 1) $$, (select id from leased)),
    'FQ409', 'Stale delivery: the message is now on delivery attempt 2, not 1',
    'set_deadline naming an earlier delivery raises FQ409 naming the current attempt.'
);
select is((select scheduled_at from fastqueue.messages), now() + interval '30 seconds',
    'The stale call leaves the current lease as consume set it.');

select throws_ok($$ select fastqueue.set_deadline(gen_random_uuid(), 601) $$,
    '22023', 'seconds must be between 0 and 600', 'seconds above 600 raises 22023.');
select throws_ok($$ select fastqueue.set_deadline(gen_random_uuid(), -1) $$,
    '22023', 'seconds must be between 0 and 600', 'Negative seconds raise 22023.');
select is(fastqueue.set_deadline(gen_random_uuid(), 10), false, 'set_deadline of an unknown id returns false.');

select * from finish();
rollback;

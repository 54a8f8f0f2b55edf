-- Leasing and redelivery: a consumed message is hidden until its ack deadline, then delivered
-- again with one more attempt; a queue without a dead queue has no delivery limit.
begin;
select plan(9);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('work', 'events', 45, 600);
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

create temp table first_lease on commit drop as select * from fastqueue.consume('work');

select results_eq(
    $$ select delivery_attempts, scheduled_at from first_lease $$,
    $$ values (1, now() + interval '45 seconds') $$,
    'The first lease counts one delivery and lasts the ack deadline.'
);
select is_empty($$ select * from fastqueue.consume('work') $$,
    'A leased message is not delivered again before its ack deadline.');

-- One second before the deadline (time cannot pass inside the transaction, so the lease is
-- shortened directly): still leased.
update fastqueue.messages set scheduled_at = now() + interval '1 second' where queue_id = 'work';
select is_empty($$ select * from fastqueue.consume('work') $$,
    'A message is still leased one second before its ack deadline.');

-- The ack deadline has passed: the lease ended one second ago.
select fastqueue_tests.make_due('work');
create temp table second_lease on commit drop as select * from fastqueue.consume('work');
select results_eq(
    $$ select id, data, delivery_attempts, scheduled_at from second_lease $$,
    $$ select id, data, 2, now() + interval '45 seconds' from first_lease $$,
    'After the ack deadline the same message is delivered again, with a second attempt and a new lease.'
);

-- The lease ends exactly now: scheduled_at <= now() makes it available.
update fastqueue.messages set scheduled_at = now() where queue_id = 'work';
select is(
    (select delivery_attempts from fastqueue.consume('work')),
    3,
    'A lease that ends exactly now is over.'
);

-- Without a dead queue there is no delivery limit: 500 attempts, lease over, still delivered.
update fastqueue.messages set delivery_attempts = 500, scheduled_at = now() - interval '1 second' where queue_id = 'work';
select is(
    (select delivery_attempts from fastqueue.consume('work')),
    501,
    'A queue without a dead queue redelivers a message however often it was delivered.'
);

-- The lease length follows the queue's current ack deadline.
do $$ begin perform fastqueue.update_queue('work', 'events', 120, 600); end $$;
select fastqueue_tests.make_due('work');
select is(
    (select scheduled_at from fastqueue.consume('work')),
    now() + interval '120 seconds',
    'A lease lasts the queue''s current ack deadline.'
);

-- Leasing never changes what the message carries or when it expires.
select results_eq(
    $$ select data, attributes, expired_at, created_at from fastqueue.messages where queue_id = 'work' $$,
    $$ select data, attributes, expired_at, created_at from first_lease $$,
    'Leases leave data, attributes, expiry and created_at unchanged.'
);
select is(
    (select count(*)::integer from fastqueue.messages where queue_id = 'work'),
    1,
    'Redelivery never duplicates a message.'
);

select * from finish();
rollback;

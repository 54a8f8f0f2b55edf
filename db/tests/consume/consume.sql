-- consume: leases available messages of one queue, oldest scheduled first, up to max_messages;
-- max_messages range (22023) and unknown queue (P0002).
begin;
select plan(16);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue.create_queue('other', null, 30, 600);
end $$;

select is_empty($$ select * from fastqueue.consume('work') $$, 'consume of an empty queue returns nothing.');

-- Five messages, then their schedules spread into the past out of publishing order (time cannot
-- pass inside the transaction, so the rows are set directly): n=3 became available first.
do $$ begin perform fastqueue.publish('events', format('{"n": %s}', n)::jsonb) from generate_series(1, 5) n; end $$;
update fastqueue.messages m
   set scheduled_at = now() - (array[30, 20, 50, 10, 40])[(m.data ->> 'n')::integer] * interval '1 second'
 where m.queue_id = 'work';
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)
values ('other', '{"n": 99}', now() + interval '600 seconds', now() - interval '1 hour');

create temp table first_batch on commit drop as select * from fastqueue.consume('work', 2);

select results_eq(
    $$ select (data ->> 'n')::integer from first_batch $$,
    array[3, 5],
    'consume returns the oldest scheduled messages first, in that order, no more than max_messages.'
);
select results_eq(
    $$ select delivery_attempts, scheduled_at, updated_at from first_batch $$,
    $$ values (1, now() + interval '30 seconds', now()), (1, now() + interval '30 seconds', now()) $$,
    'Each leased message has one more delivery attempt and is scheduled after the queue''s ack deadline.'
);
select results_eq(
    $$ select m.id, m.delivery_attempts, m.scheduled_at from fastqueue.messages m join first_batch f using (id) order by m.scheduled_at, m.id $$,
    $$ select id, delivery_attempts, scheduled_at from first_batch order by scheduled_at, id $$,
    'consume stores the lease it returns.'
);
select results_eq(
    $$ select (data ->> 'n')::integer from fastqueue.consume('work') $$,
    array[1, 2, 4],
    'The next consume skips leased messages and returns the rest, oldest scheduled first.'
);
select is_empty($$ select * from fastqueue.consume('work') $$,
    'With every message leased, consume returns nothing.');
select results_eq(
    $$ select (data ->> 'n')::integer from fastqueue.consume('other') $$,
    array[99],
    'consume only touches the queue it is given.'
);
select is(
    (select count(*)::integer from fastqueue.messages where queue_id = 'work'),
    5,
    'Leasing does not delete messages.'
);

-- Default and edge values of max_messages.
do $$ begin perform fastqueue.publish('events', '{"batch": true}') from generate_series(1, 12); end $$;
select is((select count(*)::integer from fastqueue.consume('work')), 10,
    'consume leases at most 10 messages by default.');
select is((select count(*)::integer from fastqueue.consume(queue_id => 'work', max_messages => 1000)), 2,
    'consume accepts max_messages 1000 by name and returns what is available.');
do $$ begin perform fastqueue.publish('events', '{"batch": true}') from generate_series(1, 2); end $$;
select is((select count(*)::integer from fastqueue.consume('work', 1)), 1,
    'consume accepts max_messages 1.');

select throws_ok($$ select * from fastqueue.consume('work', 0) $$,
    '22023', 'max_messages must be between 1 and 1000', 'consume refuses max_messages 0 and says the range.');
select throws_ok($$ select * from fastqueue.consume('work', 1001) $$,
    '22023', null, 'consume refuses max_messages 1001.');
select throws_ok($$ select * from fastqueue.consume('work', null) $$,
    '22023', null, 'consume refuses a null max_messages.');
select is((select count(*)::integer from fastqueue.messages where queue_id = 'work' and delivery_attempts = 0), 1,
    'A refused consume leases nothing.');
select throws_ok($$ select * from fastqueue.consume('missing') $$,
    'P0002', 'Queue not found', 'consume of an unknown queue raises P0002 "Queue not found".');

select * from finish();
rollback;

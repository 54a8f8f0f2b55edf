-- consume with ack_message_ids: in one call, acks (deletes) the named messages of this queue, then
-- leases as consume does; ids of other queues and unknown ids are ignored; an ordering key freed by
-- the ack is leased in the same call; 1..1000 ids (null or empty: none), else 22023 and nothing
-- acked or leased.
begin;
select plan(17);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work', 'other');
    perform fastqueue_tests.publish_numbered('events', 5);
end $$;

create temp table first_lease on commit drop as select * from fastqueue.consume('work', 2);
create temp table other_lease on commit drop as select * from fastqueue.consume('other', 1);

-- Acks the two leased messages of 'work', names one message of 'other' and an unknown id, leases 2.
create temp table second_lease on commit drop as
    select * from fastqueue.consume('work', 2,
        array(select id from first_lease) || (select id from other_lease) || gen_random_uuid());

select is((select count(*)::integer from fastqueue.messages m where m.id in (select id from first_lease)), 0,
    'The named messages of the queue are acked (deleted).');
select is((select count(*)::integer from fastqueue.messages m where m.id in (select id from other_lease)), 1,
    'A named message of another queue is not acked.');
select is((select delivery_attempts from fastqueue.messages m where m.id in (select id from other_lease)), 1,
    'nor changed in any way.');
select results_eq($$ select data ->> 'n' from second_lease order by data ->> 'n' $$, $$ values ('3'), ('4') $$,
    'Then it leases as consume does: the next oldest available messages.');
select is((select count(*)::integer from second_lease where delivery_attempts = 1), 2,
    'What it leased counts a delivery, as consume''s leases do.');

-- An acked message is never returned, even when it is available when the call starts.
create temp table third_lease on commit drop as
    select * from fastqueue.consume('work', 10, array(select m.id from fastqueue.messages m
                                                       where m.queue_id = 'work' and m.data ->> 'n' = '5'));
select is_empty($$ select * from third_lease $$,
    'An available message that is acked in the call is not leased by it (and the leased ones are not available).');
select is((select count(*)::integer from fastqueue.messages where queue_id = 'work'), 2,
    'Only the two leased messages are left in the queue.');

-- Null and empty mean no acks: a plain consume.
select is((select count(*)::integer from fastqueue.consume('other', 10, null)), 4,
    'With null ack_message_ids it is a plain consume (the four available messages of other).');
do $$ begin perform fastqueue.nack(m.id) from fastqueue.messages m where m.queue_id = 'other'; end $$;
select is((select count(*)::integer from fastqueue.consume('other', 10, '{}')), 5,
    'With an empty array it is a plain consume (every message of other, all nacked).');
select is((select count(*)::integer from fastqueue.consume('other', 10)), 0,
    'Positional calls with two arguments still work.');

-- Range errors: nothing acked, nothing leased.
do $$ begin perform fastqueue.nack(m.id) from fastqueue.messages m where m.queue_id = 'other'; end $$;
select throws_ok(
    $$ select * from fastqueue.consume('other', 10, array(select m.id from fastqueue.messages m where m.queue_id = 'other')
                                                   || array(select gen_random_uuid() from generate_series(1, 996))) $$,
    '22023', 'the number of ack_message_ids must be between 1 and 1000',
    '1001 ack_message_ids raise 22023.');
select is((select count(*)::integer from fastqueue.messages where queue_id = 'other' and scheduled_at <= now()), 5,
    'After the error nothing was acked and nothing leased.');
select is((select count(*)::integer from fastqueue.consume('other', 10,
                array(select gen_random_uuid() from generate_series(1, 1000)))), 5,
    '1000 ack_message_ids are accepted.');
select throws_ok($$ select * from fastqueue.consume('other', 0, array[gen_random_uuid()]) $$,
    '22023', 'max_messages must be between 1 and 1000', 'max_messages out of range still raises 22023.');
select throws_ok($$ select * from fastqueue.consume('missing', 1, array[gen_random_uuid()]) $$,
    'P0002', 'Queue not found', 'An unknown queue raises P0002.');

-- Ordered queue: acking the head of a key frees its next message, leased by this very call.
do $$
begin
    perform fastqueue.create_queue('ordered', null, 30, 600, enable_message_ordering => true);
    insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at, ordering_key, ordering_sequence)
    select 'ordered', jsonb_build_object('m', 'k' || n), now() + interval '1 hour', now(),
           'k', nextval('fastqueue.messages_ordering_sequence')
      from generate_series(1, 3) n;
end $$;
create temp table head on commit drop as select * from fastqueue.consume('ordered', 10);
select results_eq($$ select data ->> 'm' from head $$, $$ values ('k1') $$,
    'An ordered key gives its head alone.');
select results_eq($$ select data ->> 'm' from fastqueue.consume('ordered', 10, array(select id from head)) $$,
    $$ values ('k2') $$,
    'Acking the head in consume leases the next message of its key in the same call.');

select * from finish();
rollback;

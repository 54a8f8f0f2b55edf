-- The rotated store under the API (docs/storage.md): a payload stored once per publish, a body only
-- when some queue took the message, one ordering_sequence per keyed message, publishes into the
-- current slot, both slots read, moves pointing at the same body; writes to the view fastqueue.messages.
begin;
select plan(20);

-- setval is not rolled back with the test: this file starts from slot 0 and puts the slot back at the end.
select fastqueue_tests.remember_store_slot() is not null as slot_remembered;
select setval('fastqueue.store_slot', 0) is not null as slot_zero;

do $$
begin
    perform fastqueue.create_topic('fan');
    perform fastqueue.create_queue('fan-dead', null, 30, 600);
    perform fastqueue.create_queue('fan-1', 'fan', 30, 600, dead_queue_id => 'fan-dead', message_max_deliveries => 1);
    perform fastqueue.create_queue('fan-2', 'fan', 30, 600);
    perform fastqueue.create_queue('fan-3', 'fan', 30, 600, enable_message_ordering => true);
    perform fastqueue.create_queue('fan-red', 'fan', 30, 600, message_filters => '{"color": ["red"]}');
    perform fastqueue.create_topic('nobody');
end $$;

create temp table first_publish on commit drop as
select * from fastqueue.publish('fan', '{"n": 1}', '{"color": "blue"}', ordering_key => 'k');
select is((select count(*)::integer from first_publish), 3, 'A publish to a topic of 4 queues, 3 of them taking it: 3 copies.');
select is((select count(*)::integer from fastqueue.message_bodies), 1, 'Its payload is stored once: one body.');
select is((select count(distinct body_id)::integer from fastqueue.deliveries d where d.id in (select id from first_publish)), 1,
    'Its 3 deliveries share that body.');
select is((select size_bytes from fastqueue.message_bodies),
    octet_length('{"n": 1}'::jsonb::text) + octet_length('{"color": "blue"}'::jsonb::text),
    'The body stores its size: data and attributes as JSON text.');
select is((select count(distinct ordering_sequence)::integer from first_publish), 1,
    'A keyed message takes one ordering_sequence, shared by its copies.');
select is((select ordering_sequence from fastqueue.message_bodies), (select min(ordering_sequence) from first_publish),
    'The body holds the same ordering_sequence.');

select is((select count(*)::integer from fastqueue.publish('nobody', '{"n": 0}')), 0,
    'A publish no queue takes returns nothing...');
select is((select count(*)::integer from fastqueue.message_bodies where data = '{"n": 0}'), 0, '... and stores no body.');

create temp table batch on commit drop as
select * from fastqueue.publish_batch('fan', '[{"data": {"n": 10}, "attributes": {"color": "red"}}, {"data": {"n": 11}}]');
select is((select count(*)::integer from batch), 7, 'publish_batch: 4 copies of the red message, 3 of the other.');
select is((select count(*)::integer from fastqueue.message_bodies where data in ('{"n": 10}', '{"n": 11}')), 2,
    'publish_batch stores one body per message.');

-- Publishes go to the current slot; consume, peek and acks read both.
select is((select count(*)::integer from fastqueue.deliveries where slot <> 0), 0, 'Slot 0 is current at first: everything is there.');
select setval('fastqueue.store_slot', 1);
create temp table in_slot_1 on commit drop as select * from fastqueue.publish('fan', '{"n": 3}');
select is((select count(*)::integer from fastqueue.deliveries d where d.id in (select id from in_slot_1) and d.slot = 1), 3,
    'After setval(store_slot, 1) publishes store their deliveries in slot 1...');
select is((select slot from fastqueue.message_bodies where data = '{"n": 3}'), 1::smallint, '... and their body.');
select results_eq(
    $$ select data ->> 'n' from fastqueue.peek('fan-2', 10) order by 1 $$,
    $$ values ('1'), ('10'), ('11'), ('3') $$,
    'peek reads both slots.');
select results_eq(
    $$ select data ->> 'n' from fastqueue.consume('fan-2', 10) order by 1 $$,
    $$ values ('1'), ('10'), ('11'), ('3') $$,
    'consume leases from both slots.');
select is(fastqueue.ack_messages(array(select id from fastqueue.messages where queue_id = 'fan-2')), 4,
    'ack_messages acks in both slots.');

-- A move (dead-lettering) makes a new delivery in the same slot, pointing at the same body.
update fastqueue.messages set scheduled_at = now() - interval '1 second', delivery_attempts = 1
 where queue_id = 'fan-1' and data = '{"n": 1}';
select is((select dead_lettered_messages from fastqueue.cleanup()), 1::bigint, 'cleanup dead-letters the over-delivered copy.');
select is((select body_id from fastqueue.deliveries where queue_id = 'fan-dead'),
          (select b.id from fastqueue.message_bodies b where b.data = '{"n": 1}'),
    'The dead-lettered copy points at the same body.');

-- The view: writes go to deliveries.
select throws_ok(
    $$ update fastqueue.messages set data = '{"changed": true}' where queue_id = 'fan-3' $$,
    '0A000', 'data and attributes of a stored message cannot be changed',
    'data of a stored message cannot be changed through the view (a body may be shared).');
delete from fastqueue.messages where queue_id = 'fan-3';
select is((select count(*)::integer from fastqueue.deliveries where queue_id = 'fan-3'), 0,
    'A delete on the view deletes the deliveries.');

select fastqueue_tests.restore_store_slot() is not null as slot_restored;
select * from finish();
rollback;

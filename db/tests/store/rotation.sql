-- rotate_store() (docs/storage.md, Rotation): a rotation carries every delivery unchanged (available,
-- leased, delayed, nacked with backoff, keyed, over-delivered and still leased) with its body, drops
-- expired deliveries and those of deleted queues with the bodies nobody else refers to, and leaves
-- consume, ack (fenced or not), nack, set_deadline and peek answering as before, after one rotation
-- of the slot that holds the messages and after two (rotation_isolation.sql: REPEATABLE READ is refused). Runs in one
-- transaction: its own locks never stop it, and fastqueue.rotation_min_changes = 0 makes every
-- attempt worth it (the store has only a few rows here).
begin;
select plan(34);

set local fastqueue.rotation_min_changes = 0;
-- setval is not rolled back with the test: the slot is put back at the end for the files after this one.
select fastqueue_tests.remember_store_slot() is not null as slot_remembered;

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('rot-events', 'rot-work');
    perform fastqueue.create_queue('rot-delayed', 'rot-events', 30, 600, delivery_delay_seconds => 900);
    perform fastqueue.create_queue('rot-dead', null, 30, 600);
    perform fastqueue.create_queue('rot-limited', null, 30, 600, dead_queue_id => 'rot-dead', message_max_deliveries => 1);
    perform fastqueue.create_queue('rot-ordered', null, 30, 600, enable_message_ordering => true);
    perform fastqueue_tests.create_topic_with_queues('rot-direct', 'rot-nacked');
    perform fastqueue.create_topic('rot-keys');
    perform fastqueue.create_topic('rot-limits');
    perform fastqueue_tests.create_topic_with_queues('rot-doomed', 'rot-gone');
end $$;
-- rot-ordered and rot-limited take their messages from their own topics.
update fastqueue.queues set topic_id = 'rot-keys' where id = 'rot-ordered';
update fastqueue.queues set topic_id = 'rot-limits' where id = 'rot-limited';

-- Every state. rot-events: 4 messages, each in rot-work and rot-delayed (one body, two deliveries).
do $$
begin
    perform fastqueue.publish('rot-events', jsonb_build_object('n', n), jsonb_build_object('a', n::text))
       from generate_series(1, 4) n;
end $$;
create temp table leased on commit drop as select * from fastqueue.consume('rot-work', 1);     -- leased
do $$
begin
    perform fastqueue.publish('rot-direct', '{"nack": true}');
    perform fastqueue.nack(m.id, 1, 300) from fastqueue.consume('rot-nacked', 1) m;            -- nacked, 300 s
    perform fastqueue.publish('rot-keys', jsonb_build_object('k', n), ordering_key => 'key-1')
       from generate_series(1, 2) n;
    perform fastqueue.publish('rot-limits', '{"limited": true}');
end $$;
create temp table keyed on commit drop as select * from fastqueue.consume('rot-ordered', 10);  -- k = 1 leased
create temp table limited on commit drop as select * from fastqueue.consume('rot-limited', 1); -- over-delivered, leased
-- One unleased copy in rot-work: expired (its body stays: rot-delayed's copy shares it).
update fastqueue.deliveries set expired_at = now() - interval '1 second'
 where id = (select d.id from fastqueue.deliveries d
              where d.queue_id = 'rot-work' and d.id not in (select id from leased) order by d.id limit 1);
-- A message published to rot-gone just before the queue was deleted (no foreign key).
do $$ begin perform fastqueue.publish('rot-doomed', '{"orphan": true}'); end $$;
delete from fastqueue.queues where id = 'rot-gone';

create temp table deliveries_before on commit drop as select * from fastqueue.deliveries;
create temp table bodies_before on commit drop as select * from fastqueue.message_bodies;
create temp table survivors on commit drop as
select * from deliveries_before d
 where d.expired_at > now() and exists (select from fastqueue.queues q where q.id = d.queue_id);
create temp table peeks_before on commit drop as
select p.* from fastqueue.queues q cross join lateral fastqueue.peek(q.id, 100) p;

select is((select count(distinct slot)::integer from deliveries_before), 1, 'Before: every delivery is in one slot.');
select is((select count(*)::integer from survivors), 11, 'Before: 11 deliveries that must survive, 1 expired, 1 of a deleted queue.');

-- First rotation: the other (empty) slot is retired and becomes current.
create temp table first on commit drop as select * from fastqueue.rotate_store();
select is((select outcome from first), 'rotated', 'The first rotation rotates.');
select is((select current_slot from first), (1 - (select min(slot) from deliveries_before))::smallint,
    'It makes the other slot current.');
select is((select last_value::smallint from fastqueue.store_slot), (select current_slot from first), 'store_slot says so.');
select is((select carried_deliveries from first), 0, 'It carried nothing: the retired slot was empty.');
select set_eq($$ select * from fastqueue.deliveries $$, $$ select * from deliveries_before $$,
    'The slot holding the messages is untouched by the first rotation.');
select set_eq($$ select p.* from fastqueue.queues q cross join lateral fastqueue.peek(q.id, 100) p $$,
    $$ select * from peeks_before $$, 'peek answers the same after one rotation.');

-- Second rotation: the slot holding the messages is retired, its survivors carried into it.
create temp table second on commit drop as select * from fastqueue.rotate_store();
select is((select outcome from second), 'rotated', 'The second rotation rotates.');
select is((select current_slot from second), (select min(slot) from deliveries_before),
    'It makes the messages'' slot current again.');
select is((select carried_deliveries from second), 11, 'It carried the 11 live deliveries.');
select is((select carried_bodies from second), 8, 'and their 8 bodies (a fan-out''s copies share one).');
select is((select carried_in_flight from second), 4,
    'Four of them in flight: the leased, the nacked, the keyed and the over-delivered one.');
select is((select (dropped_expired, dropped_orphaned)::text from second), '(1,1)',
    'It dropped the expired delivery and the one of the deleted queue.');
select set_eq($$ select * from fastqueue.deliveries $$, $$ select * from survivors $$,
    'Every survivor is carried unchanged: id, attempts, scheduled_at, expiry, times, ordering key and sequence.');
select set_eq($$ select * from fastqueue.message_bodies $$,
    $$ select * from bodies_before b where b.id in (select body_id from survivors) $$,
    'Exactly the bodies of the survivors are kept, unchanged (the expired copy''s shared body too; the orphan''s goes).');
select set_eq($$ select p.* from fastqueue.queues q cross join lateral fastqueue.peek(q.id, 100) p $$,
    $$ select * from peeks_before p where p.id in (select id from survivors) $$,
    'peek answers the same after two rotations (but the expired message).');
select is((select (rotations, skips, carried_deliveries, last_carried_deliveries, dropped_deliveries, last_outcome)::text
             from fastqueue.store_state),
    '(2,0,11,11,2,rotated)', 'store_state counts the rotations and what they carried and dropped.');

-- The API on the carried rows.
select is((select array_agg(m.id order by m.id) from fastqueue.consume('rot-work', 10) m),
    (select array_agg(d.id order by d.id) from survivors d where d.queue_id = 'rot-work' and d.id not in (select id from leased)),
    'consume leases the two carried available messages (not the leased or the expired one).');
select throws_ok(format('select fastqueue.ack(%L, 2)', (select id from leased)), 'FQ409', null,
    'A fenced ack with another attempt than the carried lease''s is refused as stale.');
select is(fastqueue.set_deadline((select id from leased), 120, 1), true, 'set_deadline with its attempt finds the carried lease.');
select is(fastqueue.ack((select id from leased), 1), true, 'A fenced ack with the lease''s attempt acks the carried message.');
select is_empty($$ select * from fastqueue.consume('rot-ordered', 10) $$,
    'The next of an ordering key still waits for the carried lease of the first.');
select is((select array_agg(m.data ->> 'k') from fastqueue.consume('rot-ordered', 10, array(select id from keyed)) m),
    array['2'], 'Acked in consume, the carried first of the key lets the second go, in the same call.');
select is_empty($$ select * from fastqueue.consume('rot-limited', 10) $$,
    'The carried over-delivered message is not leased again.');
select is_empty($$ select * from fastqueue.consume('rot-delayed', 10) $$, 'The carried delayed messages stay delayed.');
select is_empty($$ select * from fastqueue.consume('rot-nacked', 10) $$, 'The carried nacked message keeps its backoff.');
select is(fastqueue.nack((select m.id from fastqueue.messages m where m.queue_id = 'rot-nacked'), 1, 0), true,
    'nack by id finds the carried message (fenced by its attempt).');
select is((select count(*)::integer from fastqueue.consume('rot-nacked', 10)), 1, 'Nacked without delay, it is leased again.');

-- Two more rotations: the rows just changed live in the current slot and are carried by the second.
create temp table third on commit drop as select * from fastqueue.rotate_store();
create temp table fourth on commit drop as select * from fastqueue.rotate_store();
select is((select array[(select outcome from third), (select outcome from fourth)]), array['rotated', 'rotated'],
    'Two more rotations rotate.');
select is((select carried_deliveries from fourth), (select count(*)::integer from deliveries_before) - 2 - 2,
    'The fourth carried every delivery left (two acked, two dropped before).');
select is(fastqueue.ack((select id from limited)), true, 'An unfenced ack finds a message carried twice.');
select is((select count(*)::integer from fastqueue.consume('rot-work', 10, array(select m.id from fastqueue.messages m where m.queue_id = 'rot-work'))), 0,
    'consume with acks acks the twice-carried leases of rot-work and finds nothing else to lease.');
select is_empty($$ select * from fastqueue.messages m where m.queue_id = 'rot-work' $$, 'rot-work is empty.');
select fastqueue_tests.restore_store_slot() is not null as slot_restored;
select * from finish();
rollback;

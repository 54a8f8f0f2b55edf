-- peek: shows a queue's messages in consume's order, every state, and changes nothing.
begin;
select plan(11);

do $$
begin
    perform fastqueue.create_topic('peek-events');
    perform fastqueue.create_queue('peek-dead', null, 30, 600);
    perform fastqueue.create_queue('peek-work', 'peek-events', 30, 600, null, 'peek-dead', 2);
    perform fastqueue.create_queue('peek-ordered', null, 30, 600, enable_message_ordering => true);
    perform fastqueue.create_queue('peek-empty', null, 30, 600);
end $$;

-- One message per state, with scheduled_at spread so the expected order is known.
insert into fastqueue.messages (id, queue_id, data, delivery_attempts, expired_at, scheduled_at) values
    ('00000000-0000-4000-8000-000000000001', 'peek-work', '{"state": "available"}', 0, now() + interval '1 hour', now() - interval '30 seconds'),
    ('00000000-0000-4000-8000-000000000002', 'peek-work', '{"state": "in flight"}', 1, now() + interval '1 hour', now() + interval '20 seconds'),
    ('00000000-0000-4000-8000-000000000003', 'peek-work', '{"state": "delayed"}', 0, now() + interval '1 hour', now() + interval '10 seconds'),
    ('00000000-0000-4000-8000-000000000004', 'peek-work', '{"state": "expired"}', 0, now() - interval '1 second', now() - interval '40 seconds'),
    ('00000000-0000-4000-8000-000000000005', 'peek-work', '{"state": "over-delivered"}', 2, now() + interval '1 hour', now() - interval '5 seconds'),
    ('00000000-0000-4000-8000-000000000006', 'peek-work', '{"state": "lease ended"}', 1, now() + interval '1 hour', now() - interval '20 seconds');
-- Three keyed messages published together: same scheduled_at, publish order is ordering_sequence.
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at, ordering_key, ordering_sequence)
select 'peek-ordered', jsonb_build_object('n', n), now() + interval '1 hour', now(), 'k',
       nextval('fastqueue.messages_ordering_sequence')
  from generate_series(1, 3) n;

create temp table before_peek on commit drop as select * from fastqueue.messages;

select results_eq(
    $$ select data ->> 'state' from fastqueue.peek('peek-work', 10) $$,
    $$ values ('expired'), ('available'), ('lease ended'), ('over-delivered'), ('delayed'), ('in flight') $$,
    'peek returns every message of the queue, whatever its state, ordered by scheduled_at.'
);
select results_eq(
    $$ select (data ->> 'n')::int from fastqueue.peek('peek-ordered') $$,
    $$ values (1), (2), (3) $$,
    'Messages due at the same moment come in publish order (ordering_sequence).'
);
select results_eq(
    $$ select data ->> 'state' from fastqueue.peek('peek-work', 2) $$,
    $$ values ('expired'), ('available') $$,
    'peek returns at most max_messages messages, the first ones.'
);
select is((select count(*) from fastqueue.peek(queue_id => 'peek-empty')), 0::bigint,
    'peek of an empty queue returns nothing.');

select is_empty(
    $$ (select * from fastqueue.messages except select * from before_peek)
       union all
       (select * from before_peek except select * from fastqueue.messages) $$,
    'peek changes nothing: delivery_attempts, scheduled_at and updated_at are as they were.'
);
select is(
    (select num_undelivered_messages from fastqueue.queue_stats('peek-work')), 2::bigint,
    'After peek the queue still has its 2 available messages.'
);
select is(
    (select provolatile from pg_catalog.pg_proc where oid = 'fastqueue.peek(text, integer)'::regprocedure),
    's',
    'peek is STABLE: it cannot write.'
);
-- No row lock: FOR UPDATE or FOR SHARE would stamp this transaction's id into each locked row's
-- xmax (these rows were inserted above and are otherwise untouched, so xmax is 0).
select is_empty(
    $$ select m.id from fastqueue.deliveries m
        where m.queue_id = 'peek-work' and m.xmax <> '0'::xid $$,
    'peek locks no row (no FOR UPDATE or FOR SHARE stamped xmax).'
);

select throws_ok($$ select * from fastqueue.peek('missing') $$,
    'P0002', 'Queue not found', 'peek of an unknown queue raises P0002 "Queue not found".');
select throws_ok($$ select * from fastqueue.peek('peek-work', 0) $$,
    '22023', null, 'peek with max_messages 0 raises 22023.');
select throws_ok($$ select * from fastqueue.peek('peek-work', 1001) $$,
    '22023', null, 'peek with max_messages 1001 raises 22023.');

select * from finish();
rollback;

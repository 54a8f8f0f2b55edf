-- redrive_queue: moves the available messages to another queue, reset as if newly published
-- there; leased, delayed, expired and over-delivered ones stay.
begin;
select plan(13);

do $$
begin
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work', null, 30, 7200, delivery_delay_seconds => 5);
    perform fastqueue.create_queue('limited-dead', null, 30, 600);
    perform fastqueue.create_queue('limited', null, 30, 600, null, 'limited-dead', 2);
end $$;

-- Messages in 'dead' in every state, published an hour ago and delivered before (rows are written
-- directly: time cannot pass inside the transaction).
insert into fastqueue.messages (queue_id, data, attributes, delivery_attempts, expired_at, scheduled_at, created_at, updated_at)
values ('dead', '{"state": "available-1"}', '{"k": "v"}', 3, now() + interval '5 minutes', now() - interval '1 second', now() - interval '1 hour', now() - interval '1 hour'),
       ('dead', '{"state": "available-2"}', null, 0, now() + interval '5 minutes', now(), now() - interval '1 hour', now() - interval '1 hour'),
       ('dead', '{"state": "leased"}', null, 1, now() + interval '5 minutes', now() + interval '20 seconds', now() - interval '1 hour', now() - interval '1 hour'),
       ('dead', '{"state": "delayed"}', null, 0, now() + interval '5 minutes', now() + interval '20 seconds', now() - interval '1 hour', now() - interval '1 hour'),
       ('dead', '{"state": "expired"}', null, 0, now() - interval '1 second', now() - interval '1 minute', now() - interval '1 hour', now() - interval '1 hour'),
       ('work', '{"state": "already-there"}', null, 1, now() + interval '5 minutes', now() + interval '20 seconds', now() - interval '1 hour', now() - interval '1 hour');

create temp table before_redrive on commit drop as select * from fastqueue.messages;

select is(fastqueue.redrive_queue('dead', 'work'), 2::bigint,
    'redrive_queue returns how many messages it moved: only the available ones.');
select set_eq(
    $$ select data ->> 'state' from fastqueue.messages where queue_id = 'work' $$,
    array['available-1', 'available-2', 'already-there'],
    'The available messages are now in the destination queue.'
);
select set_eq(
    $$ select data ->> 'state' from fastqueue.messages where queue_id = 'dead' $$,
    array['leased', 'delayed', 'expired'],
    'Leased, delayed and expired messages stay in the redriven queue.'
);
select results_eq(
    $$ select data ->> 'state', delivery_attempts, expired_at, scheduled_at, updated_at
         from fastqueue.messages where queue_id = 'work' and data ->> 'state' like 'available-%' order by 1 $$,
    $$ values ('available-1', 0, now() + interval '7200 seconds', now() + interval '5 seconds', now()),
              ('available-2', 0, now() + interval '7200 seconds', now() + interval '5 seconds', now()) $$,
    'Moved messages start over: no deliveries, the destination''s retention and delivery delay.'
);
select results_eq(
    $$ select m.data, m.attributes, m.created_at from fastqueue.messages m
        where m.queue_id = 'work' and m.data ->> 'state' like 'available-%' order by m.data ->> 'state' $$,
    $$ select b.data, b.attributes, b.created_at from before_redrive b
        where b.data ->> 'state' like 'available-%' order by b.data ->> 'state' $$,
    'Moved messages keep their data, attributes and created_at.'
);
select is_empty(
    $$ select m.id from fastqueue.messages m
        where m.queue_id = 'work' and m.data ->> 'state' like 'available-%'
          and m.id in (select b.id from before_redrive b) $$,
    'and get new ids, as if newly published there (the fence across the move: db/tests/settle/fencing_across_moves.sql).'
);
select set_eq(
    $$ select id, queue_id, delivery_attempts, expired_at, scheduled_at from fastqueue.messages
        where data ->> 'state' not like 'available-%' $$,
    $$ select id, queue_id, delivery_attempts, expired_at, scheduled_at from before_redrive
        where data ->> 'state' not like 'available-%' $$,
    'Messages that did not move are unchanged, and so is the destination''s own message.'
);
select is(fastqueue.redrive_queue('dead', 'work'), 0::bigint,
    'A second redrive finds nothing available and returns 0.');

-- A source queue with a dead queue: messages past its delivery limit stay (cleanup moves them).
insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at)
values ('limited', '{"state": "below-limit"}', 1, now() + interval '5 minutes', now() - interval '1 second'),
       ('limited', '{"state": "at-limit"}', 2, now() + interval '5 minutes', now() - interval '1 second');
select is(fastqueue.redrive_queue('limited', 'work'), 1::bigint,
    'redrive_queue does not move messages already delivered message_max_deliveries times.');
select is((select data ->> 'state' from fastqueue.messages where queue_id = 'limited'), 'at-limit',
    'The over-delivered message stays in its queue.');

select throws_ok($$ select fastqueue.redrive_queue('dead', 'dead') $$,
    '22023', null, 'redrive_queue to the queue itself raises 22023.');
select throws_ok($$ select fastqueue.redrive_queue('missing', 'work') $$,
    'P0002', 'Queue not found', 'redrive_queue of an unknown queue raises P0002 "Queue not found".');
select throws_ok($$ select fastqueue.redrive_queue(id => 'dead', destination_queue_id => 'missing') $$,
    'P0002', 'Queue not found', 'redrive_queue to an unknown destination raises P0002 "Queue not found".');

select * from finish();
rollback;

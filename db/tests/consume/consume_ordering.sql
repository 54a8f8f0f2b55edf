-- consume on a queue with enable_message_ordering: messages that share an ordering_key are leased
-- one at a time, in publish order (also within one transaction), the next only once the previous is
-- acked or can never be delivered again; other keys and unkeyed messages are not held up; a queue
-- without the flag ignores keys.
begin;
select plan(11);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('ordered', 'events', 30, 600, enable_message_ordering => true);
    perform fastqueue.create_queue('unordered', 'events', 30, 600);
end $$;

-- One transaction (they share now()): a1 a2 a3 of key a, b1 b2 of key b, two unkeyed.
do $$
begin
    perform fastqueue.publish('events', '{"m": "a1"}', ordering_key => 'a');
    perform fastqueue.publish('events', '{"m": "b1"}', ordering_key => 'b');
    perform fastqueue.publish('events', '{"m": "a2"}', ordering_key => 'a');
    perform fastqueue.publish('events', '{"m": "u1"}');
    perform fastqueue.publish_batch('events', '[{"data": {"m": "a3"}, "ordering_key": "a"}, {"data": {"m": "b2"}, "ordering_key": "b"}, {"data": {"m": "u2"}}]');
end $$;

select set_eq(
    $$ select data ->> 'm' from fastqueue.consume('ordered', 10) $$,
    array['a1', 'b1', 'u1', 'u2'],
    'The first consume gets the head of each key and every unkeyed message, nothing behind a head.'
);
select is_empty($$ select * from fastqueue.consume('ordered', 10) $$,
    'While the heads are leased, nothing of their keys is leased.');
select set_eq(
    $$ select data ->> 'm' from fastqueue.consume('unordered', 10) $$,
    array['a1', 'b1', 'a2', 'u1', 'a3', 'b2', 'u2'],
    'A queue without enable_message_ordering delivers keyed messages like any other.'
);

select ok(fastqueue.ack((select id from fastqueue.messages where queue_id = 'ordered' and data ->> 'm' = 'a1')), 'a1 acked.');
select results_eq(
    $$ select data ->> 'm' from fastqueue.consume('ordered', 10) $$,
    array['a2'],
    'Once a key''s head is acked, its next message (and only that one) is leased; key b is still busy.'
);

-- A nacked head comes back before anything behind it.
select ok(fastqueue.nack((select id from fastqueue.messages where queue_id = 'ordered' and data ->> 'm' = 'a2')), 'a2 nacked.');
select results_eq(
    $$ select data ->> 'm', delivery_attempts from fastqueue.consume('ordered', 10) $$,
    $$ values ('a2'::text, 2) $$,
    'A nacked head is leased again before the messages behind it.'
);

-- A head that expired (cleanup not run yet) no longer holds its key.
update fastqueue.messages set expired_at = now() where queue_id = 'ordered' and data ->> 'm' = 'b1';
select results_eq(
    $$ select data ->> 'm' from fastqueue.consume('ordered', 10) $$,
    array['b2'],
    'An expired head no longer holds up its key: correctness does not wait for cleanup.'
);

-- A head leased its last time on a queue with a dead queue holds its key until its lease ends.
do $$
begin
    perform fastqueue.create_queue('ordered-dead', null, 30, 600);
    perform fastqueue.update_queue('ordered', 'events', 30, 600, dead_queue_id => 'ordered-dead',
                                   message_max_deliveries => 2, enable_message_ordering => true);
end $$;
select is_empty($$ select * from fastqueue.consume('ordered', 10) $$,
    'a2, on its last delivery and still leased, holds up a3.');
update fastqueue.messages set scheduled_at = now() - interval '1 second' where queue_id = 'ordered' and data ->> 'm' = 'a2';
select results_eq(
    $$ select data ->> 'm' from fastqueue.consume('ordered', 10) $$,
    array['a3'],
    'Once the over-delivered head''s lease ended (it waits for cleanup''s dead-lettering), the next message is leased.'
);

select ok(
    obj_description('fastqueue.consume(text, integer, uuid[])'::regprocedure, 'pg_proc') like '%enable_message_ordering%ordering_key%',
    'consume''s comment documents ordered delivery.'
);

select * from finish();
rollback;

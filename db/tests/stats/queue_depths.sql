-- fastqueue.queue_depths(): one row per queue with what a consumer could lease now, and everything stored.
begin;
select plan(7);

select has_function('fastqueue', 'queue_depths', array[]::text[], 'queue_depths() exists');
select function_returns('fastqueue', 'queue_depths', array[]::text[], 'setof record', 'queue_depths() returns rows');
select isnt(obj_description('fastqueue.queue_depths()'::regprocedure, 'pg_proc'), null, 'queue_depths() is documented');

do $$
begin
    perform fastqueue.create_topic('depth-topic');
    perform fastqueue.create_queue('depth-a-dead', null, 30, 600);
    perform fastqueue.create_queue('depth-b-plain', 'depth-topic', 30, 600);
    perform fastqueue.create_queue('depth-c-limited', 'depth-topic', 30, 600,
                                   dead_queue_id => 'depth-a-dead', message_max_deliveries => 1);
    perform fastqueue.create_queue('depth-d-delayed', 'depth-topic', 30, 600, delivery_delay_seconds => 900);
end;
$$;

select results_eq(
    $$ select queue_id, available_messages, total_messages from fastqueue.queue_depths() where queue_id like 'depth-%' $$,
    $$ values ('depth-a-dead', 0::bigint, 0::bigint), ('depth-b-plain', 0, 0), ('depth-c-limited', 0, 0), ('depth-d-delayed', 0, 0) $$,
    'a queue without messages has a row of zeros'
);

do $$
begin
    perform fastqueue.publish('depth-topic', '{"n": 1}');
    perform fastqueue.publish('depth-topic', '{"n": 2}');
    perform fastqueue.publish('depth-topic', '{"n": 3}');
    perform fastqueue.consume('depth-b-plain', 1);
    -- Delivered its one allowed time, then given back: stored, but no longer deliverable from here.
    perform fastqueue.nack(m.id) from fastqueue.consume('depth-c-limited', 1) m;
end;
$$;

select results_eq(
    $$ select queue_id, available_messages, total_messages from fastqueue.queue_depths() where queue_id like 'depth-%' $$,
    $$ values ('depth-a-dead', 0::bigint, 0::bigint), ('depth-b-plain', 2, 3), ('depth-c-limited', 2, 3), ('depth-d-delayed', 0, 3) $$,
    'leased, over-delivered and delayed messages are stored but not available'
);

update fastqueue.messages set expired_at = now() - interval '1 second'
 where id = (select id from fastqueue.messages where queue_id = 'depth-b-plain' and delivery_attempts = 0 limit 1);

select results_eq(
    $$ select available_messages, total_messages from fastqueue.queue_depths() where queue_id = 'depth-b-plain' $$,
    $$ values (1::bigint, 3::bigint) $$,
    'an expired message is not available, though stored until cleanup'
);

select is(
    (select available_messages from fastqueue.queue_depths() where queue_id = 'depth-b-plain'),
    (select num_undelivered_messages from fastqueue.queue_stats('depth-b-plain')),
    'available_messages agrees with queue_stats()'
);

select * from finish();
rollback;

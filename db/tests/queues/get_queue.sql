-- get_queue: the stored queue, or P0002 "Queue not found".
begin;
select plan(3);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work', 'events', 45, 7200, '{"a": ["b"]}', 'dead', 4, 15);
end $$;
-- Backdated so the test can tell the stored timestamps from now().
update fastqueue.queues set created_at = now() - interval '2 hours', updated_at = now() - interval '1 hour'
 where id = 'work';

select results_eq(
    $$ select id, topic_id, ack_deadline_seconds, message_retention_seconds, message_filters,
              dead_queue_id, message_max_deliveries, delivery_delay_seconds, created_at, updated_at
         from fastqueue.get_queue('work') $$,
    $$ values ('work'::text, 'events'::text, 45, 7200, '{"a": ["b"]}'::jsonb, 'dead'::text, 4, 15,
               now() - interval '2 hours', now() - interval '1 hour') $$,
    'get_queue returns the queue with that id as stored.'
);
select throws_ok(
    $$ select * from fastqueue.get_queue('missing') $$,
    'P0002', 'Queue not found',
    'get_queue of an unknown id raises P0002 "Queue not found".'
);
select throws_ok(
    $$ select * from fastqueue.get_queue('events') $$,
    'P0002', 'Queue not found',
    'get_queue does not find a topic of that id.'
);

select * from finish();
rollback;

-- purge_queue: deletes every message of the queue, leased ones included, and returns the count.
begin;
select plan(6);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work', 'other');
    perform fastqueue_tests.publish_numbered('events', 4);
    perform fastqueue.consume('work', 2);
end $$;
-- One of the unleased ones is delayed and one expired (rows set directly: time cannot pass here).
update fastqueue.messages set scheduled_at = now() + interval '1 minute'
 where queue_id = 'work' and delivery_attempts = 0 and data ->> 'n' = (
    select max(data ->> 'n') from fastqueue.messages where queue_id = 'work' and delivery_attempts = 0);
update fastqueue.messages set expired_at = now() - interval '1 second'
 where queue_id = 'work' and delivery_attempts = 0 and scheduled_at <= now();

select is(fastqueue.purge_queue('work'), 4::bigint,
    'purge_queue returns how many messages it deleted, leased, delayed and expired ones included.');
select is_empty($$ select * from fastqueue.messages where queue_id = 'work' $$,
    'purge_queue leaves the queue empty.');
select is((select count(*)::integer from fastqueue.messages where queue_id = 'other'), 4,
    'purge_queue leaves other queues'' messages alone.');
select is(fastqueue.purge_queue('work'), 0::bigint, 'purge_queue of an empty queue returns 0.');
select lives_ok($$ select fastqueue.get_queue('work') $$, 'purge_queue keeps the queue itself.');
select throws_ok($$ select fastqueue.purge_queue('missing') $$,
    'P0002', 'Queue not found', 'purge_queue of an unknown queue raises P0002 "Queue not found".');

select * from finish();
rollback;

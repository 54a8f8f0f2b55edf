-- Expiry: a message past its expired_at is never delivered, not counted by queue_stats, not
-- redriven, and deleted by cleanup.
begin;
select plan(9);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue.create_queue('elsewhere', null, 30, 600);
    perform fastqueue_tests.publish_numbered('events', 3);
end $$;
-- Retention ran out for n=1 a second ago and for n=2 exactly now; n=3 expires in a second. Time
-- cannot pass inside the transaction, so expired_at is moved instead.
update fastqueue.messages set expired_at = now() - interval '1 second' where data ->> 'n' = '1';
update fastqueue.messages set expired_at = now() where data ->> 'n' = '2';
update fastqueue.messages set expired_at = now() + interval '1 second' where data ->> 'n' = '3';

select results_eq(
    $$ select num_undelivered_messages, oldest_unacked_message_age_seconds from fastqueue.queue_stats('work') $$,
    $$ values (1::bigint, 0) $$,
    'queue_stats skips expired messages (expired_at at or before now).'
);
select is(fastqueue.redrive_queue('work', 'elsewhere'), 1::bigint,
    'redrive_queue moves only the unexpired message.');
do $$ begin perform fastqueue.redrive_queue('elsewhere', 'work'); end $$;
-- redrive_queue gave n=3 the retention of 'work' again; set it back to one second from now.
update fastqueue.messages set expired_at = now() + interval '1 second' where data ->> 'n' = '3';

select results_eq(
    $$ select data ->> 'n' from fastqueue.consume('work', 10) $$,
    array['3'],
    'consume never delivers an expired message.'
);
-- The lease of n=3 ended; the message expired meanwhile.
update fastqueue.messages set scheduled_at = now() - interval '1 second', expired_at = now() - interval '1 second'
 where data ->> 'n' = '3';
select is_empty($$ select * from fastqueue.consume('work') $$,
    'A message that expires after a delivery is not delivered again.');
select is(fastqueue.nack((select id from fastqueue.messages where data ->> 'n' = '3')), true,
    'nack of an expired message still finds it.');
select is_empty($$ select * from fastqueue.consume('work') $$,
    'A nacked expired message is not delivered either.');

select is((select expired_messages from fastqueue.cleanup()), 3::bigint,
    'cleanup deletes every expired message and counts them.');
select is_empty($$ select * from fastqueue.messages $$,
    'After cleanup no expired message is left.');
select is((select expired_messages from fastqueue.cleanup()), 0::bigint,
    'A second cleanup has nothing left to delete.');

select * from finish();
rollback;

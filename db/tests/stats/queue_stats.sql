-- queue_stats: counts only the messages a consumer could lease now, and the age of the oldest of them.
begin;
select plan(12);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work', 'events', 30, 600, null, 'dead', 3);
    perform fastqueue.create_queue('other', 'events', 30, 600);
end $$;

select results_eq(
    $$ select num_undelivered_messages, oldest_unacked_message_age_seconds from fastqueue.queue_stats('work') $$,
    $$ values (0::bigint, 0) $$,
    'An empty queue has no undelivered messages and an oldest age of 0.'
);

-- Seven messages in 'work', each in a different state. Time cannot pass inside the transaction,
-- so the states are set on the rows directly.
do $$ begin perform fastqueue.publish('events', format('{"state": "%s"}', s)::jsonb)
    from unnest(array['available-old', 'available-new', 'leased', 'delayed', 'expired', 'over-delivered', 'lease-ended']) s; end $$;
-- 100.7 seconds old: the age is reported in whole seconds elapsed, so 100, not 101.
update fastqueue.messages set created_at = now() - interval '100.7 seconds'
 where queue_id = 'work' and data ->> 'state' = 'available-old';
update fastqueue.messages set created_at = now() - interval '40 seconds'
 where queue_id = 'work' and data ->> 'state' = 'available-new';
-- The messages a consumer cannot get are older still, so they would show in the age if counted.
update fastqueue.messages set created_at = now() - interval '500 seconds', delivery_attempts = 1,
       scheduled_at = now() + interval '10 seconds'
 where queue_id = 'work' and data ->> 'state' = 'leased';
update fastqueue.messages set created_at = now() - interval '500 seconds', scheduled_at = now() + interval '10 seconds'
 where queue_id = 'work' and data ->> 'state' = 'delayed';
update fastqueue.messages set created_at = now() - interval '500 seconds', expired_at = now() - interval '1 second'
 where queue_id = 'work' and data ->> 'state' = 'expired';
update fastqueue.messages set created_at = now() - interval '500 seconds', delivery_attempts = 3,
       scheduled_at = now() - interval '1 second'
 where queue_id = 'work' and data ->> 'state' = 'over-delivered';
update fastqueue.messages set created_at = now() - interval '60 seconds', delivery_attempts = 2,
       scheduled_at = now() - interval '1 second'
 where queue_id = 'work' and data ->> 'state' = 'lease-ended';

select results_eq(
    $$ select num_inflight_messages, num_delayed_messages, num_dead_letter_candidates from fastqueue.queue_stats('work') $$,
    $$ values (1::bigint, 1::bigint, 1::bigint) $$,
    'queue_stats counts the leased message in flight, the never-delivered future one as delayed, and the over-delivered one as a dead-letter candidate.'
);
select is((select num_undelivered_messages from fastqueue.queue_stats('work')), 3::bigint,
    'queue_stats counts available messages and ones whose lease ended, not leased, delayed, expired or over-delivered ones.');
select is((select oldest_unacked_message_age_seconds from fastqueue.queue_stats('work')), 100,
    'oldest_unacked_message_age_seconds is the age of the oldest counted message, in whole seconds elapsed.');
select is(
    (select num_undelivered_messages from fastqueue.queue_stats('work')),
    (select count(*) from fastqueue.consume('work', 1000)),
    'queue_stats counts exactly what consume then leases.'
);
select results_eq(
    $$ select num_undelivered_messages, oldest_unacked_message_age_seconds from fastqueue.queue_stats('work') $$,
    $$ values (0::bigint, 0) $$,
    'Once everything is leased, the queue has no undelivered messages and an oldest age of 0.'
);
select results_eq(
    $$ select num_inflight_messages, num_delayed_messages, num_dead_letter_candidates from fastqueue.queue_stats('work') $$,
    $$ values (4::bigint, 1::bigint, 2::bigint) $$,
    'Once consume leased the three available messages, four are in flight, and the one now on its third delivery is a dead-letter candidate too.'
);
update fastqueue.messages set scheduled_at = now() + interval '10 seconds'
 where queue_id = 'work' and data ->> 'state' = 'over-delivered';
select results_eq(
    $$ select num_inflight_messages, num_dead_letter_candidates from fastqueue.queue_stats('work') $$,
    $$ values (5::bigint, 2::bigint) $$,
    'A message on its last delivery and still leased is both in flight and a dead-letter candidate.'
);
select results_eq(
    $$ select num_inflight_messages, num_delayed_messages, num_dead_letter_candidates from fastqueue.queue_stats('other') $$,
    $$ values (0::bigint, 0::bigint, 0::bigint) $$,
    'A queue without a dead queue has no dead-letter candidates; fresh messages are neither in flight nor delayed.'
);
select is((select num_undelivered_messages from fastqueue.queue_stats('other')), 7::bigint,
    'queue_stats counts only its own queue''s messages.');
select is((select oldest_unacked_message_age_seconds from fastqueue.queue_stats(id => 'other')), 0,
    'Messages published now are 0 seconds old.');

select throws_ok($$ select * from fastqueue.queue_stats('missing') $$,
    'P0002', 'Queue not found', 'queue_stats of an unknown queue raises P0002 "Queue not found".');

select * from finish();
rollback;

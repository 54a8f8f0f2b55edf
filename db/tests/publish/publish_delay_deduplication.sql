-- publish: a message's own delay_seconds overrides its queues' delivery delay; a deduplication_id
-- seen on the topic within its window stores nothing new and answers with the first publish's
-- copies; the window is per topic (0 turns it off), ends, and cleanup() deletes its records.
begin;
select plan(21);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_topic('short', deduplication_window_seconds => 60);
    perform fastqueue.create_topic('off', 0);
    perform fastqueue.create_queue('plain', 'events', 30, 600);
    perform fastqueue.create_queue('delayed', 'events', 30, 600, delivery_delay_seconds => 120);
    perform fastqueue.create_queue('short-a', 'short', 30, 600);
    perform fastqueue.create_queue('off-a', 'off', 30, 600);
end $$;

-- Per-message delay
select results_eq(
    $$ select queue_id, scheduled_at from fastqueue.publish('events', '{"n": 1}', delay_seconds => 30) order by queue_id $$,
    $$ values ('delayed'::text, now() + interval '30 seconds'), ('plain', now() + interval '30 seconds') $$,
    'delay_seconds overrides every queue''s delivery delay, longer or shorter.'
);
select results_eq(
    $$ select queue_id, scheduled_at from fastqueue.publish('events', '{"n": 2}', delay_seconds => 0) order by queue_id $$,
    $$ values ('delayed'::text, now()), ('plain', now()) $$,
    'delay_seconds 0 makes the message available at once even where the queue delays.'
);
select results_eq(
    $$ select queue_id, scheduled_at from fastqueue.publish('events', '{"n": 3}') order by queue_id $$,
    $$ values ('delayed'::text, now() + interval '120 seconds'), ('plain', now()) $$,
    'Without delay_seconds the queue''s delivery delay applies.'
);
select lives_ok($$ select fastqueue.publish('events', '{}', delay_seconds => 900) $$, 'delay_seconds 900 is accepted.');
select throws_ok($$ select fastqueue.publish('events', '{}', delay_seconds => 901) $$,
    '22023', 'delay_seconds must be null or between 0 and 900', 'delay_seconds 901 is refused with the range.');
select throws_ok($$ select fastqueue.publish('events', '{}', delay_seconds => -1) $$,
    '22023', null, 'A negative delay_seconds is refused.');

-- Deduplication
create temp table first_publish on commit drop as
select * from fastqueue.publish('events', '{"order": 42}', deduplication_id => 'order-42');
create temp table second_publish on commit drop as
select * from fastqueue.publish('events', '{"order": 42}', deduplication_id => 'order-42');
select is((select count(*)::integer from first_publish), 2, 'The first publish with a deduplication_id fans out as usual.');
select set_eq($$ select id from second_publish $$, $$ select id from first_publish $$,
    'A duplicate within the window answers with the first publish''s copies (same ids).');
select is((select count(*)::integer from fastqueue.messages where data ->> 'order' = '42'), 2,
    'A duplicate stores nothing new.');
select is((select count(*)::integer from fastqueue.publish('events', '{"order": 43}', deduplication_id => 'order-43')), 2,
    'Another deduplication_id is a new message.');
select is((select count(*)::integer from fastqueue.publish('short', '{"order": 42}', deduplication_id => 'order-42')), 1,
    'A deduplication_id is scoped to its topic: the same id on another topic is a new message.');

-- A duplicate after the first publish's copy in one queue was acked: what still exists.
delete from fastqueue.messages where id = (select id from first_publish where queue_id = 'plain');
select results_eq(
    $$ select queue_id from fastqueue.publish('events', '{"order": 42}', deduplication_id => 'order-42') $$,
    array['delayed'],
    'After a copy was acked, a duplicate answers with the copies that still exist, and stores nothing.'
);

-- The window ends (time cannot pass inside the transaction: the record is aged directly).
update fastqueue.deduplications set expired_at = now() where topic_id = 'short';
select is((select count(*)::integer from fastqueue.publish('short', '{"order": 42}', deduplication_id => 'order-42')), 1,
    'After the window the same deduplication_id is published anew.');
select is((select count(*)::integer from fastqueue.messages where queue_id = 'short-a'), 2,
    'Both publishes outside each other''s window were stored.');
select is((select expired_at from fastqueue.deduplications where topic_id = 'short'), now() + interval '60 seconds',
    'The renewed record lasts the topic''s deduplication_window_seconds.');

select is((select count(*)::integer from fastqueue.publish('off', '{}', deduplication_id => 'x')) +
          (select count(*)::integer from fastqueue.publish('off', '{}', deduplication_id => 'x')), 2,
    'On a topic with deduplication_window_seconds 0, deduplication_id is ignored.');

select throws_ok($$ select fastqueue.publish('events', '{}', deduplication_id => '') $$,
    '22023', 'deduplication_id must be null or 1 to 128 characters', 'An empty deduplication_id is refused.');
select throws_ok(format('select fastqueue.publish(%L, %L, deduplication_id => %L)', 'events', '{}', repeat('x', 129)),
    '22023', null, 'A deduplication_id of 129 characters is refused.');
select throws_ok($$ select fastqueue.create_topic('bad-window', 86401) $$,
    '22023', 'deduplication_window_seconds must be between 0 and 86400 (1 day)',
    'create_topic refuses a window over a day with the rule.');

-- cleanup() deletes records past their window, and only those.
update fastqueue.deduplications set expired_at = now() - interval '1 second' where topic_id = 'events' and deduplication_id = 'order-43';
select is((select expired_deduplications from fastqueue.cleanup()), 1::bigint,
    'cleanup() deletes deduplication records past their window and counts them.');
select set_eq($$ select topic_id, deduplication_id from fastqueue.deduplications $$,
    $$ values ('events'::text, 'order-42'::text), ('short', 'order-42') $$,
    'cleanup() leaves the records still within their window.');

select * from finish();
rollback;

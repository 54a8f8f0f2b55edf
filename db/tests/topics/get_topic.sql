-- get_topic: the stored topic, or P0002 "Topic not found".
begin;
select plan(3);

do $$ begin perform fastqueue.create_topic('events'); perform fastqueue.create_topic('other'); end $$;
-- Backdated so the test can tell the stored created_at from now().
update fastqueue.topics set created_at = now() - interval '1 hour' where id = 'events';

select results_eq(
    $$ select id, created_at from fastqueue.get_topic('events') $$,
    $$ values ('events'::text, now() - interval '1 hour') $$,
    'get_topic returns the topic with that id as stored.'
);
select throws_ok(
    $$ select * from fastqueue.get_topic('missing') $$,
    'P0002',
    'Topic not found',
    'get_topic of an unknown id raises P0002 "Topic not found".'
);
select throws_ok(
    $$ select * from fastqueue.get_topic('EVENTS') $$,
    'P0002',
    'Topic not found',
    'get_topic matches ids case-sensitively.'
);

select * from finish();
rollback;

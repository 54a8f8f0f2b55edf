-- delete_topic: the topic goes, its queues stay detached (topic_id null) with their messages.
begin;
select plan(8);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'events-a', 'events-b');
    perform fastqueue_tests.create_topic_with_queues('other', 'other-a');
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

select results_eq(
    $$ select id from fastqueue.delete_topic('events') $$,
    array['events'],
    'delete_topic returns the deleted topic.'
);
select is_empty(
    $$ select * from fastqueue.topics where id = 'events' $$,
    'delete_topic removes the topic.'
);
select results_eq(
    $$ select id, topic_id from fastqueue.queues order by id $$,
    $$ values ('events-a'::text, null::text), ('events-b', null), ('other-a', 'other') $$,
    'delete_topic keeps its queues, detached (topic_id null), and leaves other topics'' queues alone.'
);
select is(
    (select count(*)::integer from fastqueue.messages where queue_id in ('events-a', 'events-b')),
    2,
    'The detached queues keep their messages.'
);
select throws_ok(
    $$ select * from fastqueue.publish('events', '{"n": 2}') $$,
    'P0002', 'Topic not found',
    'Publishing to a deleted topic raises P0002 "Topic not found".'
);
select throws_ok(
    $$ select * from fastqueue.delete_topic('events') $$,
    'P0002', 'Topic not found',
    'delete_topic of an unknown id raises P0002 "Topic not found".'
);
select lives_ok(
    $$ select fastqueue.create_topic('events') $$,
    'A deleted topic''s id can be used again.'
);
select is(
    (select count(*)::integer from fastqueue.publish('events', '{"n": 3}')),
    0,
    'A re-created topic does not pick up the queues detached from its predecessor.'
);

select * from finish();
rollback;

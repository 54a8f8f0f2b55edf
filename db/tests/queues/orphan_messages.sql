-- messages has no foreign key to queues (it cost every publish too much, db/schema.sql): a queue's
-- messages are deleted by delete_queue() itself, and messages a late-committing publish left for a
-- deleted queue are deleted by cleanup() and never reach a new queue that reuses the id.
begin;
select plan(5);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('orphans', 'orphans-kept', 'orphans-gone');
    perform fastqueue_tests.publish_numbered('orphans', 2);
end $$;

select fastqueue.delete_queue('orphans-gone');
select is((select count(*)::int from fastqueue.messages where queue_id = 'orphans-gone'), 0,
    'delete_queue deletes the queue''s messages.');

-- What a publish that read the queue before the delete and committed after it leaves behind.
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at)
values ('orphans-gone', '{"late": true}', now() + interval '1 hour', now()),
       ('orphans-reused', '{"late": true}', now() + interval '1 hour', now());

select fastqueue.create_queue('orphans-reused', 'orphans', 30, 600);
select is((select count(*)::int from fastqueue.consume('orphans-reused', 10)), 0,
    'A queue created with the id of a deleted one starts empty: what was left under that id is deleted.');

select fastqueue.cleanup();
select is((select count(*)::int from fastqueue.messages where queue_id = 'orphans-gone'), 0,
    'cleanup deletes messages whose queue no longer exists.');
select is((select count(*)::int from fastqueue.messages where queue_id = 'orphans-kept'), 2,
    'cleanup leaves the messages of existing queues alone.');
select is((select count(*)::int from fastqueue.messages), 2,
    'Nothing else is in the table.');

select * from finish();
rollback;

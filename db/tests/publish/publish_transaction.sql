-- publish runs in the caller's transaction: a message is stored (and can be consumed) only if the
-- caller's work commits. pgTAP runs each file inside one transaction, so savepoints stand in for the
-- caller's transaction here; tests/test_publish_transaction.py does the same with real commits.
begin;
select plan(4);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('orders', 'billing');
end $$;

savepoint caller;
select fastqueue.publish('orders', '{"order_id": 1}');
select is((select count(*)::int from fastqueue.messages), 1, 'Inside the caller''s transaction the message is there.');
rollback to savepoint caller;

select is((select count(*)::int from fastqueue.messages), 0, 'A rolled-back publish leaves no message behind.');
select is((select count(*)::int from fastqueue.consume('billing', 10)), 0, 'A rolled-back publish delivers nothing.');

savepoint caller;
select fastqueue.publish('orders', '{"order_id": 2}');
release savepoint caller;
select is(
    (select data from fastqueue.consume('billing', 10)),
    '{"order_id": 2}'::jsonb,
    'A publish whose transaction goes on is delivered.'
);

select * from finish();
rollback;

-- A duplicate gets back only what it could already see. A publish whose deduplication_id was used
-- on the topic within its window answers with the first publish's copies only when it is the same
-- message (data, attributes and ordering_key equal as JSON; delay_seconds does not count); another
-- message under that id is refused with FQDUP naming the id, and stores nothing. publish_batch too.
begin;
select plan(18);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'a', 'b');
end $$;

create temp table first_publish on commit drop as
select * from fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created", "region": "eu"}',
                                deduplication_id => 'order-42-created', ordering_key => 'order-42');
create temp table messages_before on commit drop as select count(*) as n from fastqueue.messages;

-- The same message again (a retry): the first publish's copies.
select set_eq(
    $$ select id, queue_id, data, attributes from fastqueue.publish('events', '{"total": 99.9, "order": 42}',
              '{"region": "eu", "kind": "created"}', deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    $$ select id, queue_id, data, attributes from first_publish $$,
    'A retry of the same message (keys in another order) answers with the first publish''s copies.');
select set_eq(
    $$ select id from fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created", "region": "eu"}',
              delay_seconds => 30, deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    $$ select id from first_publish $$,
    'delay_seconds does not make a retry another message: the first publish''s schedule stands.');

-- Another message under the same id: refused, naming the id, revealing nothing of the first.
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 43}', '{"kind": "created", "region": "eu"}',
              deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    'FQDUP',
    'deduplication_id "order-42-created" was already used on this topic for a different message (a retry must send the same data, attributes and ordering_key)',
    'Other data under a used deduplication_id is refused with FQDUP naming the id.');
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created"}',
              deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    'FQDUP', null, 'Other attributes are another message.');
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 42, "total": 99.9}', null,
              deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    'FQDUP', null, 'No attributes where the first had some is another message.');
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created", "region": "eu"}',
              deduplication_id => 'order-42-created', ordering_key => 'order-43') $$,
    'FQDUP', null, 'Another ordering_key is another message.');
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created", "region": "eu"}',
              deduplication_id => 'order-42-created') $$,
    'FQDUP', null, 'No ordering_key where the first had one is another message.');
select is((select count(*) from fastqueue.messages), (select n from messages_before),
    'Neither retries nor refused duplicates stored anything.');

-- The first publish's copies acked: its fingerprint still decides.
delete from fastqueue.messages where id in (select id from first_publish);
select throws_ok(
    $$ select fastqueue.publish('events', '{"order": 43}', deduplication_id => 'order-42-created') $$,
    'FQDUP', null, 'After every copy was acked, another message under the id is still refused.');
select is_empty(
    $$ select * from fastqueue.publish('events', '{"order": 42, "total": 99.9}', '{"kind": "created", "region": "eu"}',
              deduplication_id => 'order-42-created', ordering_key => 'order-42') $$,
    'After every copy was acked, a retry gets the copies that still exist: none.');

-- A first publish that reached no queue is remembered all the same.
select fastqueue.create_topic('empty');
select is_empty($$ select * from fastqueue.publish('empty', '{"n": 1}', deduplication_id => 'd') $$,
    'A publish to a topic without queues stores nothing.');
select throws_ok($$ select fastqueue.publish('empty', '{"n": 2}', deduplication_id => 'd') $$,
    'FQDUP', null, 'Another message under its id is refused there too.');

-- After the window, the id is free for any message.
update fastqueue.deduplications set expired_at = now() where deduplication_id = 'order-42-created';
select is((select count(*)::integer from fastqueue.publish('events', '{"order": 43}', deduplication_id => 'order-42-created')), 2,
    'After the window another message under the id is published anew.');

-- publish_batch: against an earlier publish, and within the batch itself.
create temp table before_batches on commit drop as select count(*) as n from fastqueue.messages;
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {"n": 1}}, {"data": {"order": 44}, "deduplication_id": "order-42-created"}]') $$,
    'FQDUP',
    'deduplication_id "order-42-created" was already used on this topic for a different message (a retry must send the same data, attributes and ordering_key)',
    'A batch with another message under a used deduplication_id is refused with FQDUP.');
select throws_ok(
    $$ select * from fastqueue.publish_batch('events', '[{"data": {"n": 1}, "deduplication_id": "in-batch"}, {"data": {"n": 2}, "deduplication_id": "in-batch"}]') $$,
    'FQDUP', null,
    'Two different messages under one deduplication_id in one batch are refused.');
select is((select count(*) from fastqueue.messages), (select n from before_batches),
    'A refused batch stores nothing, not even its messages before the duplicate.');
select is(
    (select count(distinct id)::integer
       from fastqueue.publish_batch('events', '[{"data": {"n": 1}, "deduplication_id": "twice"}, {"data": {"n": 1}, "deduplication_id": "twice"}, {"data": {"order": 43}, "deduplication_id": "order-42-created"}]')),
    4,
    'A batch repeating the same message under one id, and retrying an earlier one, stores one set of copies each time and answers with them.');
select is((select count(*) from fastqueue.messages), (select n + 2 from before_batches),
    'Only the batch''s one new message was stored (two copies).');

select * from finish();
rollback;

-- ack_messages: deletes a batch of messages in one call and counts those that existed.
begin;
select plan(8);

do $$
begin
    perform fastqueue_tests.create_topic_with_queues('events', 'work');
    perform fastqueue_tests.publish_numbered('events', 4);
end $$;

create temp table leased on commit drop as select * from fastqueue.consume('work', 3);

select is(
    fastqueue.ack_messages(array(select id from leased) || gen_random_uuid() || (select id from leased limit 1)),
    3,
    'ack_messages counts the messages it deleted: an unknown id and a repeated one are not counted.'
);
select results_eq($$ select data ->> 'n' from fastqueue.messages $$, $$ values ('4') $$,
    'ack_messages deletes exactly the listed messages.');
select is(fastqueue.ack_messages(array(select id from leased)), 0,
    'Acking the same batch again counts none, and is not an error.');
select is(fastqueue.ack_messages(array(select id from fastqueue.messages)), 1,
    'A message that was never leased can be acked in a batch too.');
select throws_ok($$ select fastqueue.ack_messages('{}'::uuid[]) $$,
    '22023', 'the number of message_ids must be between 1 and 1000', 'An empty batch raises 22023.');
select throws_ok($$ select fastqueue.ack_messages(null) $$, '22023', null, 'A null batch raises 22023.');
select throws_ok($$ select fastqueue.ack_messages(array(select gen_random_uuid() from generate_series(1, 1001))) $$,
    '22023', 'the number of message_ids must be between 1 and 1000', 'A batch of 1001 ids raises 22023.');
select is(fastqueue.ack_messages(array(select gen_random_uuid() from generate_series(1, 1000))), 0,
    'A batch of 1000 unknown ids is accepted and counts none.');

select * from finish();
rollback;

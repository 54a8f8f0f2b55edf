-- On a shard (a row in fastqueue.shard_identity, docs/sharding.md), every new message id carries the
-- shard number in the three hex digits after the version nibble, and stays a version 7 id; the table
-- takes only a power-of-two shard count and a number below it.
begin;
select plan(6);

select is((select count(*)::integer from fastqueue.shard_identity), 0, 'An unsharded database has no shard identity.');

insert into fastqueue.shard_identity (shard_number, shard_count) values (5, 8);
do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('work', 'events', 30, 600);
    perform fastqueue.publish('events', '{"n": 1}');
    perform fastqueue.publish_batch('events', '[{"data": {"n": 2}}, {"data": {"n": 3}}]');
    perform fastqueue.send('work', '{"n": 4}');
end $$;

select is((select count(*)::integer from fastqueue.messages m
            where substr(m.id::text, 15, 4) = '7005' and substr(m.id::text, 20, 1) in ('8', '9', 'a', 'b')), 4,
    'publish, publish_batch and send make version 7 ids with the shard number (5) after the version nibble.');
select is((select count(distinct fastqueue._new_message_id())::integer from generate_series(1, 10000)), 10000,
    '10,000 ids made on one shard in the same millisecond or so are distinct (62 random bits each).');

select throws_ok($$insert into fastqueue.shard_identity (shard_number, shard_count) values (0, 8)$$, '23505', null,
    'A database has one shard identity.');
delete from fastqueue.shard_identity;
select throws_ok($$insert into fastqueue.shard_identity (shard_number, shard_count) values (0, 3)$$, '23514', null,
    'The shard count is a power of two.');
select throws_ok($$insert into fastqueue.shard_identity (shard_number, shard_count) values (2, 2)$$, '23514', null,
    'The shard number is below the count.');

select * from finish();
rollback;

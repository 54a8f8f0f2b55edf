-- Message ids are time-ordered (the version 7 layout of RFC 9562): the first 48 bits are the Unix
-- time in milliseconds when the id was made, then version 7 and the RFC's variant. So are the new ids
-- that a move gives.
begin;
select plan(7);

create temp table clock on commit drop as
    select floor(date_part('epoch', clock_timestamp()) * 1000)::bigint as before_ms;

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 600);
    perform fastqueue.create_queue('work', 'events', 30, 600, dead_queue_id => 'dead', message_max_deliveries => 1);
    perform fastqueue.publish('events', '{"n": 1}');
    perform fastqueue.publish_batch('events', '[{"data": {"n": 2}}, {"data": {"n": 3}}]');
end $$;
insert into fastqueue.messages (queue_id, data, expired_at, scheduled_at) values ('work', '{"n": 4}', now() + interval '1 hour', now());

create temp view id_parts as
    select m.data ->> 'n' as n, m.id,
           ('x' || translate(substr(m.id::text, 1, 13), '-', ''))::bit(48)::bigint as id_ms,
           substr(m.id::text, 15, 1) as version,
           substr(m.id::text, 20, 1) as variant
      from fastqueue.messages m;

select is((select count(*)::integer from id_parts where version = '7' and variant in ('8', '9', 'a', 'b')), 4,
    'publish, publish_batch and the column default make version 7 ids with the RFC variant.');
select is((select count(*)::integer from id_parts, clock
            where id_ms between before_ms and floor(date_part('epoch', clock_timestamp()) * 1000)::bigint), 4,
    'Their first 48 bits are the Unix time in milliseconds when they were made.');
select is((select count(distinct id)::integer from id_parts), 4, 'They are distinct.');
select is(pg_typeof(fastqueue._new_message_id())::text, 'uuid', 'They are of type uuid.');
select is((select count(distinct fastqueue._new_message_id())::integer from generate_series(1, 10000)), 10000,
    '10,000 ids made in the same millisecond or so are all distinct (74 random bits each).');

-- A move (here dead-lettering) gives the message a new id, time-ordered too.
create temp table before_move on commit drop as select id from fastqueue.messages where queue_id = 'work';
do $$ begin perform fastqueue.consume('work', 10); perform fastqueue.set_deadline(m.id, 0) from fastqueue.messages m where m.queue_id = 'work'; end $$;
select is((fastqueue.cleanup()).dead_lettered_messages::integer, 4, 'cleanup moves the four messages to the dead queue.');
select is((select count(*)::integer from id_parts p
            where p.id not in (select id from before_move) and p.version = '7'
              and p.id_ms >= (select before_ms from clock)), 4,
    'The moved messages have new version 7 ids.');

select * from finish();
rollback;

-- One owner per rule (issue 16): _message_fault names the first rule a message breaks, and every
-- writer (publish, send, publish_batch) refuses with the same sentence for it; the ranges several
-- functions check come from _allowed; the fan-out has one statement and no mutual recursion; the
-- queue functions return what a caller should see.
begin;
select plan(14);

create temp table faults (data jsonb, attributes jsonb, delay_seconds integer, deduplication_id text,
                          ordering_key text, fault text) on commit drop;
insert into faults values
    ('{"n": 1}', '{"a": "x"}', 900, 'd', 'k', null),
    ('[]', null, null, null, null, 'data'),
    (null, null, null, null, null, 'data'),
    (('{"a": ' || repeat('[', 101) || repeat(']', 101) || '}')::jsonb, null, null, null, null, 'data_depth'),
    ('{}', '{"a": 1}', null, null, null, 'attributes'),
    ('{}', null, 901, null, null, 'delay_seconds'),
    ('{}', null, -1, null, null, 'delay_seconds'),
    ('{}', null, null, '', null, 'deduplication_id'),
    ('{}', null, null, null, repeat('k', 129), 'ordering_key'),
    (('{"s": "' || repeat('x', 200) || '"}')::jsonb, null, null, null, null, 'size'),
    -- Two rules broken: the first in _message_fault's order is named.
    ('[]', '{"a": 1}', 901, null, null, 'data'),
    ('{}', '{"a": 1}', 901, null, null, 'attributes');

select is_empty(
    $$ select f.fault from faults f
        where fastqueue._message_fault(f.data, f.attributes, f.delay_seconds, f.deduplication_id, f.ordering_key, 100)
              is distinct from f.fault $$,
    '_message_fault names the first rule broken, in its order, and null for a message that keeps them all.');

select is(fastqueue._batch_message_fault('{"data": {}, "delay_seconds": 901}', 100), 'delay_seconds',
    '_batch_message_fault names the delay range that _allowed gives.');
select is(fastqueue._batch_message_fault('{"data": [], "ordering_key": 7}', 100), 'ordering_key_type',
    'An element''s JSON types are checked before the message''s rules.');

select is(fastqueue._allowed('delay_seconds'), int4range(0, 900, '[]'), '_allowed: delay_seconds is 0..900.');
select is(fastqueue._allowed('batch_size'), int4range(1, 1000, '[]'), '_allowed: batch_size is 1..1000.');
select throws_ok($$ select fastqueue._allowed('no such rule') $$, '22023', 'no allowed range is defined for ''no such rule''',
    '_allowed refuses a name it has no range for, rather than allowing anything.');
select throws_ok($$ select fastqueue._require_between('offset', -1, int4range(0, null)) $$, '22023', 'offset must be 0 or more',
    '_require_between names an open-ended range by its lower bound.');

do $$ begin perform fastqueue.create_topic('rules'); perform fastqueue.create_queue('rules-q', 'rules', 30, 600); end $$;
set local fastqueue.max_message_bytes = 100;
-- The same sentence from each writer: one owner says it.
select throws_ok($$ select fastqueue.publish('rules', '{}', delay_seconds => 901) $$,
    '22023', 'delay_seconds must be null or between 0 and 900', 'publish: the delay range''s sentence.');
select throws_ok($$ select fastqueue.send('rules-q', '{}', delay_seconds => 901) $$,
    '22023', 'delay_seconds must be null or between 0 and 900', 'send: the same sentence.');
select throws_ok($$ select fastqueue.publish_batch('rules', '[{"data": {}, "delay_seconds": 901}]') $$,
    '22023', 'messages[0]: delay_seconds must be null or between 0 and 900', 'publish_batch: the same, naming the message.');
select throws_ok($$ select fastqueue.send('rules-q', ('{"s": "' || repeat('x', 200) || '"}')::jsonb) $$,
    '54000', 'Message too large: 209 bytes, the limit is 100 bytes', 'send: the size rule''s sentence, as publish''s.');
reset fastqueue.max_message_bytes;

-- The fan-out: publish and publish_batch store through _fan_out, and nothing calls publish back.
select is_empty(
    $$ select p.proname from pg_catalog.pg_proc p
        where p.pronamespace = 'fastqueue'::regnamespace and p.proname <> 'publish'
          and p.prosrc ~ 'fastqueue\.publish\s*\(' $$,
    'No function in schema fastqueue calls publish() (no mutual recursion with _publish_one).');
select is(
    (select array_agg(p.proname::text order by p.proname) from pg_catalog.pg_proc p
      where p.pronamespace = 'fastqueue'::regnamespace and p.prosrc ~ 'insert into fastqueue\.deliveries'),
    array['_fan_out', '_write_message', 'rotate_store', 'send'],
    'Deliveries are inserted by _fan_out (publish, publish_batch), send, the messages view''s trigger and rotation only.');

select hasnt_column('fastqueue', 'queue_settings', 'filter_ast',
    'The queue functions'' result type leaves out the internal filter_ast.');

select * from finish();
rollback;

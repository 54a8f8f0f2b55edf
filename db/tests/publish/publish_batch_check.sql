-- publish_batch checks a whole batch with one expression (_batch_message_fault, the one owner of an
-- element's rules) and raises the error for the first message it finds at fault. Every message that
-- keeps the rules is stored, every other refused with an error naming it.
begin;
select plan(7);

create temp table batch_items (item text not null, expected_valid boolean not null) on commit drop;
insert into batch_items values
    ('{"data": {}}', true),
    ('{"data": {"n": 1}, "attributes": {"a": "x"}}', true),
    ('{"data": {"n": 1}, "attributes": null}', true),
    ('{"data": {"n": 1}, "attributes": {}}', true),
    ('{"data": {"n": 1}, "delay_seconds": 0}', true),
    ('{"data": {"n": 1}, "delay_seconds": 900}', true),
    ('{"data": {"n": 1}, "delay_seconds": 5.0}', true),
    ('{"data": {"n": 1}, "delay_seconds": null}', true),
    ('{"data": {"n": 1}, "deduplication_id": "d", "ordering_key": "k"}', true),
    ('{"data": {"n": 1}, "deduplication_id": null, "ordering_key": null}', true),
    ('{"data": {"n": 1}, "ordering_key": "' || repeat('k', 128) || '"}', true),
    ('{"data": {"s": "' || repeat('x', 91) || '"}}', true),   -- 100 bytes of JSON text: the limit
    ('{"data": {"s": "' || repeat('x', 92) || '"}}', false),  -- 101 bytes: over 100
    ('{"data": {"s": "' || repeat('x', 60) || '"}, "attributes": {"a": "' || repeat('y', 30) || '"}}', false),
    ('5', false),
    ('"text"', false),
    ('[]', false),
    ('null', false),
    ('{}', false),
    ('{"data": null}', false),
    ('{"data": []}', false),
    ('{"data": "x"}', false),
    ('{"data": {}, "extra": 1}', false),
    ('{"data": {}, "attributes": []}', false),
    ('{"data": {}, "attributes": "x"}', false),
    ('{"data": {}, "attributes": {"a": 1}}', false),
    ('{"data": {}, "attributes": {"a": null}}', false),
    ('{"data": {}, "attributes": {"a": {"b": "c"}}}', false),
    ('{"data": {}, "delay_seconds": -1}', false),
    ('{"data": {}, "delay_seconds": 901}', false),
    ('{"data": {}, "delay_seconds": 1.5}', false),
    ('{"data": {}, "delay_seconds": "5"}', false),
    ('{"data": {}, "delay_seconds": true}', false),
    ('{"data": {}, "deduplication_id": ""}', false),
    ('{"data": {}, "deduplication_id": 7}', false),
    ('{"data": {}, "deduplication_id": "' || repeat('d', 129) || '"}', false),
    ('{"data": {}, "ordering_key": ""}', false),
    ('{"data": {}, "ordering_key": ["k"]}', false),
    ('{"data": {}, "ordering_key": "' || repeat('k', 129) || '"}', false);

do $$ begin perform fastqueue.create_topic('checks'); perform fastqueue.create_queue('checks-q', 'checks', 30, 600); end $$;

create temp table verdicts on commit drop as
select b.item::jsonb as item, b.expected_valid,
       fastqueue._batch_message_fault(b.item::jsonb, 100) as fault,
       null::boolean as published, null::text as error
  from batch_items b;

set local fastqueue.max_message_bytes = 100;
do $$
declare
    v_row record;
begin
    for v_row in select item from verdicts loop
        begin
            perform fastqueue.publish_batch('checks', jsonb_build_array(v_row.item));
            update verdicts set published = true where item = v_row.item;
        exception when invalid_parameter_value or program_limit_exceeded then
            update verdicts set published = false, error = sqlerrm where item = v_row.item;
        end;
    end loop;
end $$;

select is_empty(
    $$ select item::text from verdicts where (fault is null) is distinct from expected_valid $$,
    '_batch_message_fault names a fault for exactly the messages that break a rule.');
select is_empty(
    $$ select item::text from verdicts where published is distinct from expected_valid $$,
    'publish_batch stores exactly the messages that keep every rule and refuses the others (22023 or 54000).');
select is_empty(
    $$ select item::text || ': ' || coalesce(error, 'null') from verdicts
        where not expected_valid and error not like 'messages[0]: %' $$,
    'Every refused message gets a sentence that names it (messages[0]: ...).');

select throws_ok(
    $$ select fastqueue.publish_batch('no-such-topic', '[{"data": {}}]') $$,
    'P0002', 'Topic not found',
    'The topic is looked up before the messages.');

select throws_ok(
    $$ select fastqueue.publish_batch('checks', '[{"data": {}}, {"data": {}}, {"data": {}, "delay_seconds": 1.5}, {"data": 1}]') $$,
    '22023', 'messages[2]: delay_seconds must be null or between 0 and 900',
    'A batch with bad messages names the first of them, by its 0-based position.');

-- Depth, with the default size limit (the JSON text of a deep document is long).
reset fastqueue.max_message_bytes;
select ok(fastqueue._batch_message_fault(('{"data": ' || repeat('{"a": ', 100) || '1' || repeat('}', 100) || '}')::jsonb, 1048576) is null,
    '_batch_message_fault accepts data whose deepest value is 100 levels down.');
select throws_ok(
    $$ select fastqueue.publish_batch('checks',
           ('[{"data": {}}, {"data": ' || repeat('{"a": ', 101) || '1' || repeat('}', 101) || '}]')::jsonb) $$,
    '22023', 'messages[1]: data must not nest deeper than 100 levels',
    'publish_batch refuses data one level deeper, naming the message.');

select * from finish();
rollback;

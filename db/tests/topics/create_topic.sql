-- create_topic: a new topic, the id rule (22023) and duplicates (23505).
begin;
select plan(14);

select results_eq(
    $$ select id, created_at from fastqueue.create_topic('events') $$,
    $$ values ('events'::text, now()) $$,
    'create_topic returns the new topic, created now.'
);
select results_eq(
    $$ select id from fastqueue.topics $$,
    array['events'],
    'create_topic stores the topic.'
);

select lives_ok(
    $$ select fastqueue.create_topic('Az09-._') $$,
    'create_topic accepts an id of letters, digits, "-", "." and "_".'
);
select lives_ok(
    format('select fastqueue.create_topic(%L)', repeat('x', 128)),
    'create_topic accepts an id of 128 characters.'
);

select throws_ok(
    format('select fastqueue.create_topic(%L)', repeat('x', 129)),
    '22023',
    'id must be 1 to 128 characters, each a letter, a digit, ".", "_" or "-"',
    'create_topic refuses an id of 129 characters with 22023 and the rule.'
);
select throws_ok(
    $$ select fastqueue.create_topic('') $$,
    '22023', null,
    'create_topic refuses an empty id.'
);
select throws_ok(
    $$ select fastqueue.create_topic('two words') $$,
    '22023', null,
    'create_topic refuses an id with a space.'
);
select throws_ok(
    $$ select fastqueue.create_topic('a/b') $$,
    '22023', null,
    'create_topic refuses an id with a slash.'
);
select throws_ok(
    $$ select fastqueue.create_topic('café') $$,
    '22023', null,
    'create_topic refuses an id with a non-ASCII letter.'
);
select throws_ok(
    $$ select fastqueue.create_topic(E'events2\n') $$,
    '22023', null,
    'create_topic refuses an id that ends with a newline.'
);
select throws_ok(
    $$ select fastqueue.create_topic(null) $$,
    '22023', null,
    'create_topic refuses a null id with 22023.'
);

-- Backdated, so a duplicate that overwrote the topic would show.
update fastqueue.topics set created_at = now() - interval '1 hour' where id = 'events';
select throws_ok(
    $$ select fastqueue.create_topic('events') $$,
    '23505',
    'This topic already exists',
    'create_topic refuses an id that exists with 23505 "This topic already exists".'
);
select results_eq(
    $$ select id, created_at from fastqueue.topics where id = 'events' $$,
    $$ values ('events'::text, now() - interval '1 hour') $$,
    'A refused duplicate leaves the existing topic alone.'
);

select is(
    (select count(*)::integer from fastqueue.topics),
    3,
    'Refused ids create no topic.'
);

select * from finish();
rollback;

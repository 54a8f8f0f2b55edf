-- Ids made only of dots (".", "..", "...") are refused: HTTP clients drop such path segments from
-- URLs (GET /queues/../stats reaches GET /stats), so such a topic or queue could never be reached
-- over HTTP and would steer calls meant for it elsewhere. Dots among other characters stay allowed.
begin;
select plan(14);

select throws_ok($$ select fastqueue.create_topic('.') $$, '22023',
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs',
    'create_topic refuses "." with 22023 and the rule.');
select throws_ok($$ select fastqueue.create_topic('..') $$, '22023',
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs',
    'create_topic refuses "..".');
select throws_ok($$ select fastqueue.create_topic('...') $$, '22023',
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs',
    'create_topic refuses "...".');
select throws_ok(format('select fastqueue.create_topic(%L)', repeat('.', 128)), '22023', null,
    'create_topic refuses 128 dots.');

select throws_ok($$ select fastqueue.create_queue('.', null, 30, 600) $$, '22023',
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs',
    'create_queue refuses "." with 22023 and the rule.');
select throws_ok($$ select fastqueue.create_queue('..', null, 30, 600) $$, '22023',
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs',
    'create_queue refuses "..".');
select throws_ok($$ select fastqueue.create_queue('...', null, 30, 600) $$, '22023', null,
    'create_queue refuses "...".');

-- The tables hold the rule too, for whoever writes them directly.
select throws_ok($$ insert into fastqueue.topics (id) values ('..') $$, '23514', null,
    'A direct insert of a topic ".." breaks a CHECK constraint.');
select throws_ok($$ insert into fastqueue.queues (id, ack_deadline_seconds, message_retention_seconds)
                    values ('..', 30, 600) $$, '23514', null,
    'A direct insert of a queue ".." breaks a CHECK constraint.');

select lives_ok($$ select fastqueue.create_topic('.hidden') $$, 'create_topic accepts ".hidden".');
select lives_ok($$ select fastqueue.create_topic('a..b') $$, 'create_topic accepts "a..b".');
select lives_ok($$ select fastqueue.create_topic('..-') $$, 'create_topic accepts "..-".');
select lives_ok($$ select fastqueue.create_queue('._', null, 30, 600) $$, 'create_queue accepts "._".');
select lives_ok($$ select fastqueue.create_queue('v1.2', null, 30, 600) $$, 'create_queue accepts "v1.2".');

select * from finish();
rollback;

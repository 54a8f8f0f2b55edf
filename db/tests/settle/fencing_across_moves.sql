-- Fencing survives a move: after cleanup dead-letters a message or redrive_queue moves it, the
-- consumer of a delivery from before the move can neither ack, nack nor change the deadline of the
-- moved copy, even with the same delivery_attempt number the new consumer holds: it gets FQ409 or
-- false, and the moved copy is untouched. (A moved message gets a new id: docs/guarantees.md.)
begin;
select plan(18);

do $$
begin
    perform fastqueue.create_topic('events');
    perform fastqueue.create_queue('dead', null, 30, 7200);
    perform fastqueue.create_queue('work', 'events', 30, 600, null, 'dead', 1);
    perform fastqueue.publish('events', '{"n": 1}');
end $$;

-- A settle call as the late consumer makes it: its result, or FQ409 (the call's changes undone).
create function pg_temp.late(statement text) returns text
language plpgsql as $$
declare
    v_result boolean;
begin
    execute statement into v_result;
    return v_result::text;
exception when sqlstate 'FQ409' then
    return 'FQ409';
end;
$$;

-- Dead-lettering: delivered once from 'work' (its limit), the lease ends, cleanup moves it, and a
-- consumer of 'dead' gets it, on its own delivery attempt 1.
create temp table before_move on commit drop as select * from fastqueue.consume('work');
select fastqueue_tests.make_due();
select is((select dead_lettered_messages from fastqueue.cleanup()), 1::bigint, 'cleanup dead-letters the message.');
create temp table after_move on commit drop as select * from fastqueue.consume('dead');
select is((select delivery_attempts from after_move), 1, 'The moved copy is on delivery attempt 1 in the dead queue.');
create temp table moved_copy on commit drop as select * from fastqueue.messages;

select ok(pg_temp.late(format('select fastqueue.ack(%L, delivery_attempt => 1)', (select id from before_move)))
          in ('false', 'FQ409'),
    'A fenced ack from the delivery before dead-lettering gets false or FQ409.');
select ok(pg_temp.late(format('select fastqueue.nack(%L, delivery_attempt => 1)', (select id from before_move)))
          in ('false', 'FQ409'),
    'So does a fenced nack,');
select ok(pg_temp.late(format('select fastqueue.set_deadline(%L, 0, delivery_attempt => 1)', (select id from before_move)))
          in ('false', 'FQ409'),
    'and a fenced deadline change.');
select results_eq($$ select * from fastqueue.messages $$, $$ select * from moved_copy $$,
    'None of them touched the dead-lettered copy or its lease.');
select is(fastqueue.ack((select id from before_move)), false,
    'Without a fence, an ack of the id from before the move finds no message: the move gave it a new id.');
select is(fastqueue.nack((select id from before_move)), false, 'So does a nack,');
select is(fastqueue.set_deadline((select id from before_move), 0), false, 'and a deadline change.');
select results_eq($$ select * from fastqueue.messages $$, $$ select * from moved_copy $$,
    'The dead-lettered copy is still untouched.');
select isnt((select id from after_move), (select id from before_move), 'The moved copy has another id.');
select is(fastqueue.ack((select id from after_move), delivery_attempt => 1), true,
    'The consumer of the dead queue acks its own delivery.');

-- Redrive: delivered from 'dead', the lease ends, the message is redriven to 'work' and delivered there.
do $$ begin perform fastqueue.publish('events', '{"n": 2}'); end $$;
update fastqueue.messages set queue_id = 'dead';  -- straight into the dead queue, for the test
create temp table before_redrive on commit drop as select * from fastqueue.consume('dead');
select fastqueue_tests.make_due();
select is(fastqueue.redrive_queue('dead', 'work'), 1::bigint, 'redrive_queue moves the message.');
create temp table after_redrive on commit drop as select * from fastqueue.consume('work');
select is((select delivery_attempts from after_redrive), 1, 'The redriven copy is on delivery attempt 1 in work.');
create temp table redriven_copy on commit drop as select * from fastqueue.messages;

select ok(pg_temp.late(format('select fastqueue.ack(%L, delivery_attempt => 1)', (select id from before_redrive)))
          in ('false', 'FQ409'),
    'A fenced ack from the delivery before the redrive gets false or FQ409.');
select ok(pg_temp.late(format('select fastqueue.nack(%L, delivery_attempt => 1, delay_seconds => 0)', (select id from before_redrive)))
          in ('false', 'FQ409'),
    'So does a fenced nack,');
select ok(pg_temp.late(format('select fastqueue.set_deadline(%L, 0, delivery_attempt => 1)', (select id from before_redrive)))
          in ('false', 'FQ409'),
    'and a fenced deadline change.');
select results_eq($$ select * from fastqueue.messages $$, $$ select * from redriven_copy $$,
    'None of them touched the redriven copy or its lease.');

select * from finish();
rollback;

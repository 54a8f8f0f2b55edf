-- fastqueue_tests: the setup the pgTAP files in db/tests/ share. scripts/test.sh (and compose's
-- test service) load this file into the pgTAP database after db-migrate; db-migrate and the wheel
-- never read it (they take db/migrations, db/functions and db/views only), so no installed database
-- has this schema. pg_prove does not run it: the test runs name the area folders, not support/.
-- Each test file runs in its own transaction and rolls back, so what these helpers make goes too.
-- Re-running this file replaces the schema.
set client_min_messages = warning;  -- no notice when there is no schema to drop yet
drop schema if exists fastqueue_tests cascade;
create schema fastqueue_tests;
comment on schema fastqueue_tests is
    'Helpers for the pgTAP files in db/tests/ (loaded by the test run only, never by db-migrate).';

create function fastqueue_tests.create_queues(topic_id text, variadic queue_ids text[])
returns void
language plpgsql as $$
begin
    perform fastqueue.create_queue(q.id, topic_id, 30, 600) from unnest(queue_ids) with ordinality as q(id, position)
      order by q.position;
end;
$$;
comment on function fastqueue_tests.create_queues(text, text[]) is
    'Creates each queue of queue_ids subscribed to topic_id (null: to no topic) with the settings most '
    'tests need: a 30 second ack deadline, 600 seconds of retention, no filter, no dead queue.';

create function fastqueue_tests.create_topic_with_queues(topic_id text, variadic queue_ids text[])
returns void
language plpgsql as $$
begin
    perform fastqueue.create_topic(topic_id);
    perform fastqueue_tests.create_queues(topic_id, variadic queue_ids);
end;
$$;
comment on function fastqueue_tests.create_topic_with_queues(text, text[]) is
    'Creates the topic topic_id and, subscribed to it, each queue of queue_ids as '
    'fastqueue_tests.create_queues does (30 second ack deadline, 600 seconds of retention).';

create function fastqueue_tests.publish_numbered(topic_id text, how_many integer)
returns void
language plpgsql as $$
begin
    for n in 1..how_many loop
        perform fastqueue.publish(topic_id, jsonb_build_object('n', n));
    end loop;
end;
$$;
comment on function fastqueue_tests.publish_numbered(text, integer) is
    'Publishes how_many messages to topic_id, one at a time in this order: data {"n": 1}, {"n": 2}, ... '
    '{"n": how_many}, no attributes. Tests tell the messages apart by data ->> ''n''.';

create function fastqueue_tests.make_due(queue_id text default null)
returns integer
language plpgsql as $$
declare
    v_count integer;
begin
    update fastqueue.messages m
       set scheduled_at = now() - interval '1 second'
     where make_due.queue_id is null or m.queue_id = make_due.queue_id;
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function fastqueue_tests.make_due(text) is
    'Ends the wait of every message of queue_id (of every queue when null): its lease, delivery delay '
    'or backoff ran out one second ago. Time cannot pass inside a test''s transaction (now() is fixed), '
    'so scheduled_at is moved instead. Returns how many messages it changed.';

create function fastqueue_tests.queues_reached(topic_id text, attributes jsonb)
returns text[]
language sql as $$
    select coalesce(array_agg(p.queue_id order by p.queue_id), '{}')
      from fastqueue.publish(topic_id, '{"n": 1}', attributes) as p;
$$;
comment on function fastqueue_tests.queues_reached(text, jsonb) is
    'Publishes data {"n": 1} with these attributes to topic_id and returns the ids of the queues that '
    'took a copy, sorted (an empty array when none did): what the filter tests compare.';

create function fastqueue_tests.remember_store_slot()
returns smallint
language sql as $$
    select set_config('fastqueue_tests.store_slot_at_start', last_value::text, true)::smallint
      from fastqueue.store_slot;
$$;
comment on function fastqueue_tests.remember_store_slot() is
    'Remembers, until the end of the transaction, which slot of the rotated store is current, for '
    'fastqueue_tests.restore_store_slot, and returns it. setval and rotate_store move the sequence '
    'fastqueue.store_slot outside the test''s transaction (a rollback does not put it back).';

create function fastqueue_tests.restore_store_slot()
returns smallint
language sql as $$
    select setval('fastqueue.store_slot', current_setting('fastqueue_tests.store_slot_at_start')::bigint)::smallint;
$$;
comment on function fastqueue_tests.restore_store_slot() is
    'Makes the slot that fastqueue_tests.remember_store_slot remembered current again (an error when '
    'nothing was remembered in this transaction), so that the files after a test that rotated or '
    'called setval find the store as it was; returns that slot.';

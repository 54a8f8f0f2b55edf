create or replace function fastqueue._publish_one(
    topic fastqueue.topics,
    message jsonb
)
returns setof fastqueue.messages
language plpgsql
as $$
declare
    v_deduplication_id text := _publish_one.message ->> 'deduplication_id';
    v_first boolean := true;
    v_fingerprint bytea;
    v_recorded fastqueue.deduplications;
begin
    -- Deduplication: the primary key (topic_id, deduplication_id) decides who is first. A concurrent
    -- duplicate's insert waits here for the first transaction: if that commits, the conflict leaves
    -- its row alone (unless the window has passed) and the next statement, with a fresh snapshot,
    -- reads the ids the first publish recorded; if it rolls back, this publish is the first.
    if v_deduplication_id is not null and (_publish_one.topic).deduplication_window_seconds > 0 then
        -- Locked first: a delete_topic committing before the record's insert would fail it with 23503.
        perform fastqueue._lock_topic((_publish_one.topic).id);
        -- What makes it the same message: data, attributes and ordering_key. jsonb's text is
        -- canonical (keys sorted, no whitespace), so however its JSON was written. Not delay_seconds:
        -- a retry that recomputes its delay is still the same message.
        v_fingerprint := sha256(convert_to(jsonb_build_array(_publish_one.message -> 'data',
                                                             nullif(_publish_one.message -> 'attributes', 'null'::jsonb),
                                                             _publish_one.message ->> 'ordering_key')::text, 'UTF8'));
        insert into fastqueue.deduplications as d (topic_id, deduplication_id, expired_at, fingerprint)
        values ((_publish_one.topic).id, v_deduplication_id,
                now() + (_publish_one.topic).deduplication_window_seconds * interval '1 second', v_fingerprint)
        on conflict on constraint deduplications_pkey do update
           set message_ids = '{}', created_at = now(), expired_at = excluded.expired_at,
               fingerprint = excluded.fingerprint
         where d.expired_at <= now()  -- a record past its window that cleanup() has not deleted yet
        returning true into v_first;
        if v_first is null then
            select * into v_recorded
              from fastqueue.deduplications d
             where d.topic_id = (_publish_one.topic).id
               and d.deduplication_id = v_deduplication_id;
            -- A duplicate gets back only what it could already see: the first publish's copies when
            -- it is the same message, an error otherwise (ids are often guessable: "order-42-created").
            -- A record older than fingerprints whose copies are all gone has none (nothing to show).
            if v_recorded.fingerprint is distinct from v_fingerprint and v_recorded.fingerprint is not null then
                raise exception using errcode = 'FQDUP',
                    message = format('deduplication_id %s was already used on this topic for a different message'
                                     ' (a retry must send the same data, attributes and ordering_key)',
                                     to_json(v_deduplication_id)),
                    hint = 'Publish another message under a new deduplication_id.';
            end if;
            -- The same message again: the first publish's copies that still exist (acked ones are
            -- gone), as they are now, and nothing new.
            return query
                select m.*
                  from fastqueue.messages m
                 where m.id = any (v_recorded.message_ids)
                 order by m.queue_id;
            return;
        end if;
    end if;

    -- Stored, and the ids recorded for the duplicates to come, in one statement.
    return query
        with stored as (
            select * from fastqueue._fan_out((_publish_one.topic).id, jsonb_build_array(_publish_one.message))
        ),
        recorded as (
            update fastqueue.deduplications d
               set message_ids = (select coalesce(array_agg(s.id), '{}') from stored s)
             where v_deduplication_id is not null
               and (_publish_one.topic).deduplication_window_seconds > 0
               and d.topic_id = (_publish_one.topic).id
               and d.deduplication_id = v_deduplication_id
        )
        select * from stored;
end;
$$;

comment on function fastqueue._publish_one(fastqueue.topics, jsonb) is
'Internal: publishes one message with a deduplication_id (message: {"data", "attributes", "delay_seconds", "deduplication_id", "ordering_key"}, already checked), storing it through _fan_out (every queue of the topic whose filters pass it; returns the copies in queue id order). With a deduplication_id seen on this topic within its deduplication window, stores nothing: the same message (same data, attributes and ordering_key: their sha256 fingerprint) gets the first publish''s copies that still exist, another message error FQDUP naming the id. A new deduplication_id is recorded with the ids of the copies and the message''s fingerprint.';

revoke execute on function fastqueue._publish_one(fastqueue.topics, jsonb) from public;

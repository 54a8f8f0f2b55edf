create or replace function fastqueue._publish_one(
    topic fastqueue.topics,
    data jsonb,
    attributes jsonb,
    delay_seconds integer,
    deduplication_id text,
    ordering_key text
)
returns setof fastqueue.messages
language plpgsql
as $$
declare
    v_first boolean := true;
    v_message_ids uuid[] := '{}';
    v_message fastqueue.messages;
begin
    -- Deduplication: the primary key (topic_id, deduplication_id) decides who is first. A concurrent
    -- duplicate's insert waits here for the first transaction: if that commits, the conflict leaves
    -- its row alone (unless the window has passed) and the next statement, with a fresh snapshot,
    -- reads the ids the first publish recorded; if it rolls back, this publish is the first.
    if _publish_one.deduplication_id is not null and (_publish_one.topic).deduplication_window_seconds > 0 then
        insert into fastqueue.deduplications as d (topic_id, deduplication_id, expired_at)
        values ((_publish_one.topic).id, _publish_one.deduplication_id,
                now() + (_publish_one.topic).deduplication_window_seconds * interval '1 second')
        on conflict on constraint deduplications_pkey do update
           set message_ids = '{}', created_at = now(), expired_at = excluded.expired_at
         where d.expired_at <= now()  -- a record past its window that cleanup() has not deleted yet
        returning true into v_first;
        if v_first is null then
            -- A duplicate: the first publish's copies that still exist (acked ones are gone), as
            -- they are now, and nothing new.
            return query
                select m.*
                  from fastqueue.messages m
                 where m.id = any (select unnest(d.message_ids)
                                     from fastqueue.deduplications d
                                    where d.topic_id = (_publish_one.topic).id
                                      and d.deduplication_id = _publish_one.deduplication_id)
                 order by m.queue_id;
            return;
        end if;
    end if;

    for v_message in
        insert into fastqueue.messages (queue_id, data, attributes, expired_at, scheduled_at, ordering_key, ordering_sequence)
        select q.id,
               _publish_one.data,
               _publish_one.attributes,
               now() + q.message_retention_seconds * interval '1 second',
               -- The message's own delay, when given (0 included), overrides its queue's.
               now() + coalesce(_publish_one.delay_seconds, q.delivery_delay_seconds, 0) * interval '1 second',
               _publish_one.ordering_key,
               -- Publish order per key, also between messages of one transaction (they share now()).
               case when _publish_one.ordering_key is not null
                    then nextval('fastqueue.messages_ordering_sequence'::regclass) end
          from fastqueue.queues q
         where q.topic_id = (_publish_one.topic).id
           and fastqueue._filters_match(q.message_filters, _publish_one.attributes)
           and fastqueue._filter_matches(q.filter_ast, _publish_one.attributes)
         order by q.id
        returning *
    loop
        v_message_ids := v_message_ids || v_message.id;
        return next v_message;
    end loop;

    if _publish_one.deduplication_id is not null and (_publish_one.topic).deduplication_window_seconds > 0 then
        update fastqueue.deduplications d
           set message_ids = v_message_ids
         where d.topic_id = (_publish_one.topic).id
           and d.deduplication_id = _publish_one.deduplication_id;
    end if;
end;
$$;

comment on function fastqueue._publish_one(fastqueue.topics, jsonb, jsonb, integer, text, text) is
'Internal: stores one message, already checked by _check_message, in every queue of the topic whose filters pass it (delay_seconds overriding the queue''s delivery delay, ordering_key numbered from messages_ordering_sequence), and returns the copies in queue id order. With a deduplication_id seen on this topic within its deduplication window, stores nothing and returns the first publish''s copies that still exist. Does not notify: its callers do, once per queue.';

revoke execute on function fastqueue._publish_one(fastqueue.topics, jsonb, jsonb, integer, text, text) from public;

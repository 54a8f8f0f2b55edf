-- Two hardening rules, for ids and for deduplication.
-- Topic and queue ids made only of dots (".", "..", ...) are refused from now on: HTTP clients drop
-- such segments from URLs (GET /queues/../stats reaches GET /stats), so such a topic or queue cannot
-- be reached over HTTP and calls meant for it land elsewhere. Existing rows with such ids are not
-- renamed behind the operator's back (clients know them by their ids): the migration refuses, names
-- them, and goes through once the operator has renamed or deleted them.
do $$
declare
    v_ids text;
begin
    select string_agg(format('%s %s', kind, to_json(id)), ', ' order by kind desc, id)
      into v_ids
      from (select 'topic' as kind, t.id from fastqueue.topics t where t.id ~ '^\.+$'
            union all
            select 'queue', q.id from fastqueue.queues q where q.id ~ '^\.+$') dots;
    if v_ids is not null then
        raise exception using errcode = 'check_violation',
            message = format('This database has topic or queue ids made only of dots, which URLs cannot carry: %s', v_ids),
            hint = 'Rename them (update the id, and the queues that refer to it) or delete them (fastqueue.delete_queue, fastqueue.delete_topic), then run db-migrate again.';
    end if;
end;
$$;

alter table fastqueue.topics
    add constraint topics_id_not_only_dots check (id !~ '^\.+$');
comment on constraint topics_id_not_only_dots on fastqueue.topics is
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs';

alter table fastqueue.queues
    add constraint queues_id_not_only_dots check (id !~ '^\.+$');
comment on constraint queues_id_not_only_dots on fastqueue.queues is
    'id must not be made only of dots: ".", ".." and the like are dropped from URLs';

-- A duplicate may get back only what it could already see: publish now answers a duplicate with the
-- first publish's copies only when it is the same message, and refuses another message under the
-- id (FQDUP). The record keeps a digest of the first message (data, attributes, ordering_key), so
-- the comparison holds after its copies are acked. Records made before this migration get the digest
-- of a copy that still exists; one whose copies are all gone keeps none, and its duplicates get the
-- copies that still exist, as before: none.
alter table fastqueue.deduplications add column fingerprint bytea;
comment on column fastqueue.deduplications.fingerprint is
    'sha256 of the first publish''s data, attributes and ordering_key as one jsonb array''s text: a duplicate gets the first publish''s copies only when its own fingerprint is the same.';
update fastqueue.deduplications d
   set fingerprint = (select sha256(convert_to(jsonb_build_array(m.data, m.attributes, m.ordering_key)::text, 'UTF8'))
                        from fastqueue.messages m
                       where m.id = any (d.message_ids)
                       limit 1)
 where d.fingerprint is null;

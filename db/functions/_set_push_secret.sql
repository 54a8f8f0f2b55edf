create or replace function fastqueue._set_push_secret(queue_id text, push_secret text)
returns boolean
language plpgsql
as $$
begin
    -- null keeps the secret as it is (it cannot be read back to be sent again), '' removes it.
    if push_secret is null then
        return exists (select from fastqueue.queue_push_secrets s where s.queue_id = _set_push_secret.queue_id);
    end if;
    if push_secret = '' then
        delete from fastqueue.queue_push_secrets s where s.queue_id = _set_push_secret.queue_id;
        return false;
    end if;
    if char_length(push_secret) not between 16 and 256 then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'push_secret must be 16 to 256 characters (or "" to remove it)';
    end if;
    insert into fastqueue.queue_push_secrets (queue_id, secret) values (_set_push_secret.queue_id, push_secret)
        on conflict on constraint queue_push_secrets_pkey do update set secret = excluded.secret;
    return true;
end;
$$;

comment on function fastqueue._set_push_secret(text, text) is
'Internal (create_queue, update_queue): stores, keeps (null) or removes ('''') a queue''s push secret; returns whether one is set now.';

revoke execute on function fastqueue._set_push_secret(text, text) from public;

create or replace function fastqueue._check_push_endpoint(push_endpoint text)
returns void
language plpgsql
stable
as $$
declare
    v_authority text;
    v_host text;
    v_port text;
    v_address inet;
begin
    if push_endpoint is null then
        return;
    end if;
    -- The URL's shape is the table's CHECK (queues_push_endpoint_url); here the host and the port.
    v_authority := substring(push_endpoint from '^[hH][tT][tT][pP][sS]?://([^/?#]*)');
    if v_authority is null then
        return;  -- not an http(s) URL: the CHECK constraint names the rule
    end if;
    if v_authority ~ '^\[' then
        v_host := substring(v_authority from '^\[([^\]]*)\]');
        v_port := substring(v_authority from '^\[[^\]]*\](?::(.*))?$');
    else
        v_host := split_part(v_authority, ':', 1);
        v_port := nullif(substring(v_authority from ':(.*)$'), '');
        if v_authority ~ ':.*:' then
            v_port := 'x';
        end if;
    end if;
    if v_host is null or v_host = '' then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'push_endpoint must name a host, e.g. https://example.com/push';
    end if;
    if v_port is not null and (v_port !~ '^[0-9]{1,5}$' or v_port::integer not between 1 and 65535) then
        raise exception using errcode = 'invalid_parameter_value',
            message = 'push_endpoint''s port must be a number between 1 and 65535';
    end if;
    -- A host that is literally local or private is refused now; names are checked by the worker at
    -- every connection (docs/push.md). The gateway and the worker set this setting on their
    -- connections from FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS.
    if coalesce(current_setting('fastqueue.push_allow_private_networks', true), '') in ('true', 'on', '1') then
        return;
    end if;
    if lower(v_host) = 'localhost' or lower(v_host) like '%.localhost' then
        raise exception using errcode = 'invalid_parameter_value',
            message = format('push_endpoint''s host %s is a loopback address: push to a public address, or set FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS=true', v_host);
    end if;
    if v_host ~ '^[0-9.]+$' or v_host ~ ':' then
        begin
            v_address := v_host::inet;
        exception when invalid_text_representation then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('push_endpoint''s host %s is not a valid IP address', v_host);
        end;
        if v_address <<= any (array['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
                                    '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16', '198.18.0.0/15',
                                    '224.0.0.0/4', '240.0.0.0/4',
                                    '::/128', '::1/128', '::ffff:0:0/96', '64:ff9b::/96', 'fc00::/7',
                                    'fe80::/10', 'ff00::/8']::inet[]) then
            raise exception using errcode = 'invalid_parameter_value',
                message = format('push_endpoint''s host %s is a loopback, private, link-local or multicast address: push to a public address, or set FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS=true', v_host);
        end if;
    end if;
end;
$$;

comment on function fastqueue._check_push_endpoint(text) is
'Internal (create_queue, update_queue): refuses a push_endpoint with a bad port, or whose host is literally a loopback, private, link-local, multicast or otherwise non-public address (or localhost), unless the setting fastqueue.push_allow_private_networks is true (the gateway and the worker set it from FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS). Host names are checked by the worker when it connects.';

revoke execute on function fastqueue._check_push_endpoint(text) from public;

-- Push queue settings (docs/push.md): the URL, format, cap and secret rules, the private-network
-- switch, and the secret being write-only.
begin;
select plan(16);

select fastqueue.create_topic('push-events');
set local fastqueue.push_allow_private_networks = false;

select is((select push_format || ' ' || push_max_in_flight || ' ' || push_secret_set
             from fastqueue.create_queue('push-a', 'push-events', 30, 600, push_endpoint => 'https://example.com/hook')),
          'wrapped 16 false', 'a push queue gets the defaults: wrapped, 16 in flight, no secret');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'ftp://example.com/') $$,
    '22023', 'push_endpoint must be null or an http:// or https:// URL of at most 2048 characters, with a host and without user:password@ or spaces',
    'only http and https URLs');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'https://user:pw@example.com/') $$,
    '22023', null, 'no credentials in the URL');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'https://example.com:0/') $$,
    '22023', 'push_endpoint''s port must be a number between 1 and 65535', 'the port is checked');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'https://example.com/', push_format => 'raw') $$,
    '22023', 'push_format must be "wrapped" or "unwrapped"', 'two formats');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'https://example.com/', push_max_in_flight => 1001) $$,
    '22023', 'push_max_in_flight must be between 1 and 1000', 'the cap has a range');
select throws_ok($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'https://example.com/', push_secret => 'short') $$,
    '22023', 'push_secret must be 16 to 256 characters (or "" to remove it)', 'a secret is long enough');
select throws_like($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'http://127.0.0.1:8080/') $$,
    '%loopback, private, link-local or multicast%', 'a literal loopback address is refused');
select throws_like($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'http://192.168.1.10/') $$,
    '%FASTQUEUE_PUSH_ALLOW_PRIVATE_NETWORKS%', 'a private address is refused');
select throws_like($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'http://[fe80::1]/') $$,
    '%link-local%', 'a link-local IPv6 address is refused');
select throws_like($$ select fastqueue.create_queue('push-b', null, 30, 600, push_endpoint => 'http://LocalHost:9/') $$,
    '%loopback%', 'localhost is refused');
select throws_like($$ select fastqueue.update_queue('push-a', 'push-events', 30, 600, push_endpoint => 'http://10.0.0.1/') $$,
    '%private%', 'update_queue checks the same');

set local fastqueue.push_allow_private_networks = true;
select is((select push_endpoint from fastqueue.create_queue('push-local', null, 30, 600, push_endpoint => 'http://127.0.0.1:8080/h',
                                                              push_secret => 'sixteen-chars-or-more')),
          'http://127.0.0.1:8080/h', 'with the switch on, a private address is accepted');

-- The secret: shown as set, never returned; update keeps it unless told.
select is((select push_secret_set from fastqueue.update_queue('push-local', null, 60, 600, push_endpoint => 'http://127.0.0.1:8080/h')),
          true, 'update_queue without push_secret keeps the secret');
select ok(not exists (select from fastqueue.queue_overview o where o::text like '%sixteen-chars%')
          and not exists (select from fastqueue.get_queue('push-local') q where q::text like '%sixteen-chars%'),
          'no queue answer or view shows the secret');
select is((select push_secret_set from fastqueue.update_queue('push-local', null, 60, 600, push_endpoint => 'http://127.0.0.1:8080/h', push_secret => '')),
          false, 'push_secret '''' removes it');

select * from finish();
rollback;

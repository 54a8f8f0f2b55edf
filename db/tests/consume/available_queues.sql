-- available_queues: which of the given queues have a message a consumer could lease now (the long
-- polling gateway's safety re-check), with the same meaning of "available" as consume.
begin;
select plan(9);

do $$
begin
    perform fastqueue_tests.create_queues(null, 'aq-dead', 'aq-ready', 'aq-lease-ended', 'aq-leased', 'aq-delayed', 'aq-expired');
    perform fastqueue.create_queue('aq-over-delivered', null, 30, 600, null, 'aq-dead', 2);
    perform fastqueue.create_queue('aq-empty', null, 30, 600);
end $$;

-- One message per queue, each in another state (time cannot pass inside the transaction, so the
-- states are written on the rows directly).
insert into fastqueue.messages (queue_id, data, delivery_attempts, expired_at, scheduled_at) values
    ('aq-ready', '{}', 0, now() + interval '1 hour', now()),
    ('aq-lease-ended', '{}', 1, now() + interval '1 hour', now() - interval '1 second'),
    ('aq-leased', '{}', 1, now() + interval '1 hour', now() + interval '20 seconds'),
    ('aq-delayed', '{}', 0, now() + interval '1 hour', now() + interval '5 seconds'),
    ('aq-expired', '{}', 0, now() - interval '1 second', now() - interval '1 minute'),
    ('aq-over-delivered', '{}', 2, now() + interval '1 hour', now() - interval '1 second');

select results_eq(
    $$ select * from fastqueue.available_queues(array['aq-ready', 'aq-lease-ended', 'aq-leased', 'aq-delayed',
                                                      'aq-expired', 'aq-over-delivered', 'aq-empty']) $$,
    array['aq-lease-ended', 'aq-ready'],
    'available_queues returns, in id order, the queues with a message due now: new, or whose lease ended.'
);
select is_empty(
    $$ select * from fastqueue.available_queues(array['aq-leased', 'aq-delayed']) $$,
    'A leased or delayed message does not make its queue available.'
);
select is_empty(
    $$ select * from fastqueue.available_queues(array['aq-expired']) $$,
    'An expired message does not make its queue available.'
);
select is_empty(
    $$ select * from fastqueue.available_queues(array['aq-over-delivered']) $$,
    'A message past its queue''s delivery limit does not make the queue available.'
);
select results_eq(
    $$ select * from fastqueue.available_queues(array['aq-ready', 'no-such-queue']) $$,
    array['aq-ready'],
    'Ids of queues that do not exist are ignored.'
);
select is_empty(
    $$ select * from fastqueue.available_queues(array[]::text[]) $$,
    'An empty array returns nothing.'
);
select is_empty(
    $$ select * from fastqueue.available_queues(null) $$,
    'Null returns nothing.'
);
select results_eq(
    $$ select * from fastqueue.available_queues(array['aq-ready', 'aq-ready']) $$,
    array['aq-ready'],
    'A queue named twice is returned once.'
);

-- It agrees with consume: once the available messages are leased, their queues are no longer listed.
do $$ begin perform fastqueue.consume('aq-ready'); perform fastqueue.consume('aq-lease-ended'); end $$;
select is_empty(
    $$ select * from fastqueue.available_queues(array['aq-ready', 'aq-lease-ended']) $$,
    'After consume leased their messages, the queues are no longer available.'
);

select * from finish();
rollback;

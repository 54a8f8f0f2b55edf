create or replace function fastqueue._require_latest_delivery(
    message_id uuid,
    current_attempt integer,
    delivery_attempt integer
)
returns void
language plpgsql
immutable
as $$
begin
    -- Fencing: a consumer names the delivery it holds (the delivery_attempts consume returned);
    -- once the message was delivered again, that consumer's lease is over and it may not settle it.
    if current_attempt <> delivery_attempt then
        raise exception using errcode = 'FQ409',
            message = format('Stale delivery: the message is now on delivery attempt %s, not %s',
                             current_attempt, delivery_attempt),
            detail = format('Delivery attempt %s of message %s is not its latest delivery (the lease ended and it was delivered again); nothing was changed.',
                            delivery_attempt, message_id),
            hint = 'Leave the message to the consumer that holds the current delivery.';
    end if;
end;
$$;

comment on function fastqueue._require_latest_delivery(uuid, integer, integer) is
'Internal: error FQ409 "Stale delivery: the message is now on delivery attempt <current>, not <given>" unless the delivery_attempt a caller names is the message''s current delivery_attempts. Used by ack, nack and set_deadline.';

revoke execute on function fastqueue._require_latest_delivery(uuid, integer, integer) from public;

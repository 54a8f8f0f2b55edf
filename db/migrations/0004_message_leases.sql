-- Consumer lease control: ack and nack gain an optional delivery_attempt (fencing) and nack an
-- optional delay, so their one-parameter signatures go (db/functions/ recreates them with the new
-- parameters), and queue_stats reports in-flight, delayed and dead-letter-candidate messages too.
drop function if exists fastqueue.ack(uuid);
drop function if exists fastqueue.nack(uuid);

alter type fastqueue.queue_statistics
    add attribute num_inflight_messages bigint,
    add attribute num_delayed_messages bigint,
    add attribute num_dead_letter_candidates bigint;

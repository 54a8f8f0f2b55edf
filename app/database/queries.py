"""Every statement the gateway sends: one SQL API function call each, in named notation.

Named notation (`name => value`) keeps working if a function ever gains parameters or reorders its
optional ones. Integer arguments are cast so a Python int that psycopg sends as bigint still picks
the `integer` signature. Values are always bound, never formatted into the SQL.
"""

CREATE_TOPIC = (
    "select * from fastqueue.create_topic(id => %(id)s,"
    " deduplication_window_seconds => %(deduplication_window_seconds)s::integer)"
)
GET_TOPIC = "select * from fastqueue.get_topic(id => %(id)s)"
LIST_TOPICS = 'select * from fastqueue.list_topics("offset" => %(offset)s::integer, "limit" => %(limit)s::integer)'
DELETE_TOPIC = "select * from fastqueue.delete_topic(id => %(id)s)"
PUBLISH = (
    "select * from fastqueue.publish(topic_id => %(topic_id)s, data => %(data)s, attributes => %(attributes)s,"
    " delay_seconds => %(delay_seconds)s::integer, deduplication_id => %(deduplication_id)s,"
    " ordering_key => %(ordering_key)s)"
)
# What a minimal publish and a batch publish answer: the ids of the stored copies and their queues, not
# their data (the database never sends it).
PUBLISH_IDS = PUBLISH.replace("select * from", "select id, queue_id from", 1)
PUBLISH_BATCH = "select id, queue_id from fastqueue.publish_batch(topic_id => %(topic_id)s, messages => %(messages)s)"
# One message straight to one queue: POST /queues/{queue_id}/messages and SQS's SendMessage (app/gateway/sqs).
SEND = (
    "select * from fastqueue.send(queue_id => %(queue_id)s, data => %(data)s, attributes => %(attributes)s,"
    " delay_seconds => %(delay_seconds)s::integer)"
)

_QUEUE_SETTINGS = (
    "topic_id => %(topic_id)s,"
    " ack_deadline_seconds => %(ack_deadline_seconds)s::integer,"
    " message_retention_seconds => %(message_retention_seconds)s::integer,"
    " message_filters => %(message_filters)s,"
    " dead_queue_id => %(dead_queue_id)s,"
    " message_max_deliveries => %(message_max_deliveries)s::integer,"
    " delivery_delay_seconds => %(delivery_delay_seconds)s::integer,"
    " retry_min_backoff_seconds => %(retry_min_backoff_seconds)s::integer,"
    " retry_max_backoff_seconds => %(retry_max_backoff_seconds)s::integer,"
    " enable_message_ordering => %(enable_message_ordering)s,"
    " filter => %(filter)s,"
    " push_endpoint => %(push_endpoint)s,"
    " push_format => %(push_format)s,"
    " push_secret => %(push_secret)s,"
    " push_max_in_flight => %(push_max_in_flight)s::integer"
)
CREATE_QUEUE = f"select * from fastqueue.create_queue(id => %(id)s, {_QUEUE_SETTINGS})"
UPDATE_QUEUE = f"select * from fastqueue.update_queue(id => %(id)s, {_QUEUE_SETTINGS})"
GET_QUEUE = "select * from fastqueue.get_queue(id => %(id)s)"
LIST_QUEUES = 'select * from fastqueue.list_queues("offset" => %(offset)s::integer, "limit" => %(limit)s::integer)'
DELETE_QUEUE = "select * from fastqueue.delete_queue(id => %(id)s)"
QUEUE_STATS = "select * from fastqueue.queue_stats(id => %(id)s)"
PURGE_QUEUE = "select fastqueue.purge_queue(id => %(id)s) as purged"
REDRIVE_QUEUE = (
    "select fastqueue.redrive_queue(id => %(id)s, destination_queue_id => %(destination_queue_id)s) as moved"
)

CONSUME = (
    "select * from fastqueue.consume(queue_id => %(queue_id)s, max_messages => %(max_messages)s::integer,"
    " ack_message_ids => %(ack_message_ids)s::uuid[])"
)
# The long-polling listener's shared re-check (app/gateway/listener.py): which of these queues could be consumed now.
WATCH_QUEUE = (
    "select fastqueue.watch_queue(queue_id => %(queue_id)s, watcher => %(watcher)s, seconds => %(seconds)s::integer)"
)
AVAILABLE_QUEUES = "select queue_id from fastqueue.available_queues(queue_ids => %(queue_ids)s::text[]) as queue_id"
ACK = "select fastqueue.ack(message_id => %(message_id)s, delivery_attempt => %(delivery_attempt)s::integer) as found"
NACK = (
    "select fastqueue.nack(message_id => %(message_id)s, delivery_attempt => %(delivery_attempt)s::integer,"
    " delay_seconds => %(delay_seconds)s::integer) as found"
)
SET_DEADLINE = (
    "select fastqueue.set_deadline(message_id => %(message_id)s, seconds => %(seconds)s::integer,"
    " delivery_attempt => %(delivery_attempt)s::integer) as found"
)
ACK_MESSAGES = "select fastqueue.ack_messages(message_ids => %(message_ids)s::uuid[]) as acked"
NACK_MESSAGES = (
    "select fastqueue.nack_messages(message_ids => %(message_ids)s::uuid[],"
    " delay_seconds => %(delay_seconds)s::integer) as nacked"
)

QUEUE_DEPTHS = "select queue_id, available_messages, total_messages from fastqueue.queue_depths()"
STORE_ROTATION = "select rotations, skips, seconds_since_rotation from fastqueue.store_overview"

# The console's overviews (admin): the views of db/views/queue_overview.sql and topic_overview.sql,
# and a look at a queue's messages that leases nothing.
OVERVIEW_QUEUES = "select * from fastqueue.queue_overview order by id"
OVERVIEW_TOPICS = "select * from fastqueue.topic_overview order by id"
PEEK = "select * from fastqueue.peek(queue_id => %(queue_id)s, max_messages => %(max_messages)s::integer)"
HEALTH = "select not pg_is_in_recovery() as writable"

"""The limits Python knows, in one module: settings, schemas, routes and commands read them from here.

The rules themselves live in SQL (db/functions/publish.sql reads the custom setting
fastqueue.max_message_bytes, which the gateway sets on its connections: app/database/pool.py); these
mirror them for validation messages and the OpenAPI document. Here:

- what a request body may hold beyond the message (ENVELOPE_BYTES, used by the body guard
  app/gateway/body_limit.py); a batch publish may be larger, up to FASTQUEUE_MAX_BATCH_BYTES;
- page sizes (`limit` of the list and consume routes: 1..MAX_PAGE_SIZE, else FastAPI's 422, as the
  SQL functions bound them too);
- MAX_BATCH_SIZE, the most items of a batch request (publish_batch takes 1..1000 messages in SQL too);
- DEFAULT_MAX_RESPONSE_BYTES, how much of messages one consume or peek answers (applied in SQL while leasing);
- MAX_DELAY_SECONDS and MAX_DELIVERIES, the bounds of delays and of a queue's message_max_deliveries.
"""

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
# jsonb cannot hold more than 2^28 - 1 bytes; a larger limit would promise what PostgreSQL refuses.
MAX_MESSAGE_BYTES_CEILING = 2**28 - 1
# What a request body may hold beyond the message: the JSON envelope, whitespace, escapes.
ENVELOPE_BYTES = 64 * 1024
MAX_PAGE_SIZE = 1000
# The ranges the SQL checks (db/functions/_allowed.sql, and the CHECK constraints of fastqueue.queues and
# fastqueue.topics in db/schema.sql); the request models repeat them only to answer 422 with the range
# before the database is asked. Every Python mention of them reads them from here.
MAX_DELAY_SECONDS = 900  # a message's delay_seconds and a nack's: 0..; a queue's delivery_delay_seconds: 1..
MAX_ACK_DEADLINE_SECONDS = 600  # ack_deadline_seconds 1..; a lease set by set_deadline 0..
MIN_RETENTION_SECONDS, MAX_RETENTION_SECONDS = 600, 1209600  # message_retention_seconds (14 days at most)
MAX_DELIVERIES = 1000  # message_max_deliveries 1..
MAX_RETRY_BACKOFF_SECONDS = 600  # retry_min_backoff_seconds and retry_max_backoff_seconds 0..
MAX_PUSH_IN_FLIGHT = 1000  # push_max_in_flight 1..
MAX_DEDUPLICATION_WINDOW_SECONDS = 86400  # a topic's deduplication_window_seconds 0..
# The longest long poll a consume may ask for (wait_seconds 0..MAX_WAIT_SECONDS): the wait is the
# gateway's alone, the SQL API has nothing to wait on.
MAX_WAIT_SECONDS = 20
# The most items one batch request may carry. A batch publish has its own body allowance (below):
# MAX_BATCH_SIZE messages do not fit max_body_bytes().
MAX_BATCH_SIZE = 1000
# A batch publish body may hold this much by default (FASTQUEUE_MAX_BATCH_BYTES): 1,000 messages of 1 MiB
# would be a gigabyte parsed in one process, so the batch as a whole is capped, never below one message.
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024
# A consume answers at most this many bytes of messages by default (FASTQUEUE_MAX_RESPONSE_BYTES), always at
# least one message: consume() in SQL stops leasing there (the setting fastqueue.max_response_bytes).
DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024


def max_body_bytes(max_message_bytes: int) -> int:
    return max_message_bytes + ENVELOPE_BYTES


def max_batch_body_bytes(max_message_bytes: int, max_batch_bytes: int) -> int:
    # A batch may always carry one message of the largest size a single publish accepts.
    return max(max_batch_bytes, max_body_bytes(max_message_bytes))

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
# A publish's delay, a queue's delivery delay and a nack's delay: 0..MAX_DELAY_SECONDS (the SQL's bound).
MAX_DELAY_SECONDS = 900
# A queue's message_max_deliveries: 1..MAX_DELIVERIES (the SQL's bound).
MAX_DELIVERIES = 1000


def max_body_bytes(max_message_bytes: int) -> int:
    return max_message_bytes + ENVELOPE_BYTES


def max_batch_body_bytes(max_message_bytes: int, max_batch_bytes: int) -> int:
    # A batch may always carry one message of the largest size a single publish accepts.
    return max(max_batch_bytes, max_body_bytes(max_message_bytes))

"""Amazon SQS's JSON protocol on fastqueue, in the gateway's own process (docs/sqs.md).

protocol.py  requests, answers and errors in SQS's shapes
signing.py   Signature Version 4 and FASTQUEUE_SQS_CREDENTIALS
receipts.py  receipt handles: opaque, fenced, HMAC-authenticated
messages.py  SQS messages as fastqueue messages and back, MD5 checksums, SQS's message rules
queues.py    queue attributes as queue settings, queue URLs
actions.py   the actions, each a few calls of the SQL API
middleware.py  where SQS requests are told apart from REST ones and answered
"""

from starlette.applications import Starlette

from ...settings import Settings
from .middleware import SqsMiddleware, SqsSettings

__all__ = ["SqsMiddleware", "SqsSettings", "install"]


def install(app: Starlette, settings: Settings) -> None:
    """Adds the SQS endpoint to the app. Reads FASTQUEUE_SQS_* now, so that a malformed value stops
    the server at start (Starlette builds its middleware only on the first request)."""
    app.add_middleware(SqsMiddleware, settings=settings, sqs_settings=SqsSettings())

"""The HTTP gateway: FastAPI routes that each call one fastqueue SQL function.

`fastqueue server` serves this module's `app` with uvicorn; tests and embedders can build their own with
create_app(settings).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from fastapi import Depends, FastAPI

from ..database.pool import create_pool
from ..settings import Settings, get_settings
from . import errors
from .auth import AUTH_REQUIRED_STATE, AuthMiddleware, authorize
from .body_limit import BodySizeLimitMiddleware
from .listener import Listener
from .metrics import MetricsMiddleware
from .routes import console, consume, docs, health, leases, overview, publish, queues, send, topics
from .sqs import install as install_sqs

DESCRIPTION = """
A pub/sub message queue whose logic lives in PostgreSQL.

Publishers send messages to **topics**; every **queue** subscribed to the topic (and whose
`message_filters` match the message's attributes) gets its own copy. Consumers lease messages from a
queue, then **ack** them (done) or **nack** them (retry now). Unacked messages come back after the
queue's ack deadline; messages delivered `message_max_deliveries` times move to its dead queue.

Every endpoint calls one function of the `fastqueue` schema, which other services can call from SQL.
"""

TAGS = [
    {"name": "topics", "description": "Named destinations that publishers send messages to."},
    {"name": "queues", "description": "Subscriptions to a topic that hold messages until they are acked."},
    {"name": "messages", "description": "Publish, consume, ack and nack."},
    {"name": "monitoring", "description": "Health check and Prometheus metrics."},
]


def _version() -> str:
    try:
        return version("fastqueue")
    except PackageNotFoundError:
        return "unknown"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Opened without waiting: the server starts even while the database is down (/health says so)
        # and the pool connects as soon as it can.
        pool = create_pool(settings)
        await pool.open()
        app.state.pool = pool
        # Long polling's one LISTEN connection for this process; it connects (and reconnects) by itself.
        listener = Listener(settings)
        await listener.start()
        app.state.listener = listener
        try:
            yield
        finally:
            await listener.stop()
            await pool.close()

    tokens = settings.tokens
    app = FastAPI(
        title="fastqueue",
        version=_version(),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        # Served by app/gateway/routes/docs.py with their assets from this server, not from a CDN.
        docs_url=None,
        redoc_url=None,
        # With authentication on, every route's first dependency: 403 outside the token's role. Off, it
        # would do nothing, and a dependency costs every request its resolution: none then.
        dependencies=[Depends(authorize)] if tokens else [],
    )
    errors.install(app)
    # The last added runs first: metrics count every answer; auth answers 401 before the body is read
    # (403 comes from the authorize dependency, once the route is known); the body guard answers 413
    # before the body is read past its limit and parsed.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_message_bytes=settings.max_message_bytes,
        max_batch_bytes=settings.max_batch_bytes,
    )
    setattr(app.state, AUTH_REQUIRED_STATE, bool(tokens))
    if tokens:
        app.add_middleware(AuthMiddleware, tokens=tokens)
    # SQS requests (X-Amz-Target: AmazonSQS.*) are answered here, signed with SigV4 instead of a bearer
    # token (app/gateway/sqs, docs/sqs.md); every other request goes on to the REST API.
    install_sqs(app, settings)
    app.add_middleware(MetricsMiddleware)
    # Routes are matched in this order, one by one: the hot ones (publish, consume, ack/nack) first.
    # /docs groups operations by tag, and keeps each tag's operations in this order (as before).
    for module in (publish, send, consume, leases, topics, queues, health, overview, console, docs):
        app.include_router(module.router)
    return app


app = create_app()

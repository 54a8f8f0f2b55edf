"""The process's pool and listener, for the hot routes (publish, consume, ack and nack): read from the app's
state when the route runs instead of through FastAPI dependencies, which it would resolve again on every
request (each one a recursion of its dependency solver and an await). They are made once per process by the
lifespan (app/gateway/main.py); no dependency has parameters, so the OpenAPI document is the same."""

from typing import cast

from starlette.requests import Request

from ..database.pool import DictPool
from .listener import Listener


def pool_of(request: Request) -> DictPool:
    return cast(DictPool, request.app.state.pool)


def listener_of(request: Request) -> Listener:
    return cast(Listener, request.app.state.listener)

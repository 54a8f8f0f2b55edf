"""Direct routes: the hot routes' ordinary requests answered without FastAPI's per-request solving.

FastAPI answers a request by reading and classifying its body, solving the route's dependencies and
parameters one by one (each a recursion of its solver, a validation and an await), validating the body,
and calling the endpoint with what it found: most of the gateway's own CPU per publish or consume. A
direct route (DirectRoute, for an endpoint marked with @direct(arguments)) first asks `arguments` for the
endpoint's arguments, which it reads straight from the request: path parameters, a plain query string, a
JSON body validated by the route's own pydantic model. When the request is not an ordinary one (a body
that is not `application/json` or does not validate, a query string with escapes or repeated names,
anything `arguments` does not recognize), it returns None having changed nothing, and FastAPI's own
handler answers from the same Request (the body is read once), as it always did. So the endpoint gets
the values FastAPI would give it, a refused request gets FastAPI's 422 (or 400) word for word, and the
route keeps its parameters, body model and responses for the OpenAPI document.

The direct path runs what FastAPI would run between reading the body and calling the endpoint: the
route's one dependency, `authorize` (app/gateway/auth.py: 403 with authentication on, nothing off). The
endpoint returns its Response itself (FastAPI would serialize anything else); errors it raises go where
they always go: to the handlers of app/gateway/errors.py.
"""

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response

from .auth import authorize
from .request_json import JSONBodyRoute, json_request

# The endpoint's keyword arguments read from the request, or None for "let FastAPI answer it".
Arguments = Callable[[Request], Awaitable[dict[str, Any] | None]]
Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])

_ARGUMENTS_ATTRIBUTE = "fastqueue_direct_arguments"
_JSON = "application/json"


def direct(arguments: Arguments) -> Callable[[Endpoint], Endpoint]:
    """Marks an endpoint of a DirectRoute router: `arguments` reads its arguments from ordinary requests."""

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _ARGUMENTS_ATTRIBUTE, arguments)
        return endpoint

    return mark


class DirectRoute(JSONBodyRoute):
    """A JSONBodyRoute that calls its endpoint directly when the endpoint's `arguments` can read them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fastapi_handler = super().get_route_handler()
        arguments: Arguments | None = getattr(self.endpoint, _ARGUMENTS_ATTRIBUTE, None)
        if arguments is None:
            return fastapi_handler
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint

        async def route(request: Request) -> Response:
            request = json_request(request)
            values = await arguments(request)
            if values is None:
                return await fastapi_handler(request)
            await authorize(request)
            return await endpoint(**values)

        return route


Model = TypeVar("Model", bound=BaseModel)


async def json_body(request: Request, model: type[Model]) -> Model | None:
    """The request's body as `model`, when it is sent as application/json (parameters allowed), parses
    (app/gateway/request_json.py's loads) and validates; else None (FastAPI then answers as it would)."""
    content_type = request.headers.get("content-type")
    if content_type is None or content_type.partition(";")[0].strip().lower() != _JSON:
        return None
    try:
        value = await request.json()
    except Exception:  # not JSON, or a number refused: FastAPI's handler raises the same again
        return None
    if not isinstance(value, dict):
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


def query_ints(request: Request, defaults: dict[str, int], bounds: dict[str, tuple[int, int]]) -> dict[str, int] | None:
    """Integer query parameters: `defaults` with what the query string sets, when every name it sets is
    one of them, at most once, as plain decimal digits within `bounds`; other names are ignored, as FastAPI
    ignores them. Anything else (escapes, repeats, signs, leading zeros, out of range): None."""
    query: bytes = request.scope["query_string"]
    values = dict(defaults)
    if not query:
        return values
    if b"%" in query or b"+" in query:
        return None
    seen: set[str] = set()
    for pair in query.decode("latin-1").split("&"):
        name, _, text = pair.partition("=")
        if name not in values:
            if name in seen or not name:
                return None
            seen.add(name)
            continue
        if name in seen or not text.isdigit() or not text.isascii() or (len(text) > 1 and text[0] == "0"):
            return None
        seen.add(name)
        value = int(text)
        low, high = bounds[name]
        if not low <= value <= high:
            return None
        values[name] = value
    return values

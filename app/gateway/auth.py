"""Optional bearer-token authentication, and the one table of which role may call which route.

FASTQUEUE_AUTH_TOKENS unset: the API is open, as fastqueue 1.7 was. Set, it is
`TOKEN:ROLE[,TOKEN:ROLE...]` with ROLE one of publisher, consumer, admin (spaces around entries are
ignored; a token is printable ASCII without spaces or commas, and may contain ":" since the role is
what follows the last one). Every request then needs `Authorization: Bearer TOKEN`:

    no token, another scheme, an unknown token    401, with WWW-Authenticate: Bearer
    a token whose role may not call the route      403
    /health, /docs, /redoc, /openapi.json          open (no data in them)
    /console and its static files                  open (no data; the page asks for an admin token)

The roles mirror the database roles: publisher publishes; consumer consumes, acks, nacks and reads
queue stats; admin may do everything, /metrics included (queue ids and depths; fastqueue.queue_depths()
is admin-only in SQL too). A route missing from REQUIRED_ROLE is admin-only, so a new endpoint is
closed until someone lists it. Paths that match no route need a valid token before they get their 404.

Two halves, both here: AuthMiddleware authenticates before routing, so an unknown client gets 401
before its body is read or any path (even an unknown one) answers; `authorize`, a dependency of every
route, checks the role against REQUIRED_ROLE once the router has picked the route (its template is
only known then). This is authorization at the HTTP edge: the gateway's own database login runs every
call (no SET ROLE per request, which would cost a round trip). Tokens are compared in constant time
(SHA-256 digests, hmac.compare_digest against every configured token) and appear in no log line or
error message.
"""

import hashlib
import hmac
from collections.abc import Mapping

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# The roles, and the parser of FASTQUEUE_AUTH_TOKENS, belong to the settings that validate them.
from ..settings import ADMIN, CONSUMER, PUBLISHER

# (method, route template) -> the role it needs besides admin. Anything not here needs admin.
REQUIRED_ROLE: dict[tuple[str, str], str] = {
    ("POST", "/topics/{topic_id}/messages"): PUBLISHER,
    ("POST", "/topics/{topic_id}/messages/batch"): PUBLISHER,
    ("POST", "/queues/{queue_id}/messages"): PUBLISHER,
    ("GET", "/queues/{queue_id}/messages"): CONSUMER,
    ("POST", "/queues/{queue_id}/messages/consume"): CONSUMER,
    ("PUT", "/messages/{message_id}/ack"): CONSUMER,
    ("PUT", "/messages/{message_id}/nack"): CONSUMER,
    ("PUT", "/messages/{message_id}/deadline"): CONSUMER,
    ("POST", "/messages/ack"): CONSUMER,
    ("POST", "/messages/nack"): CONSUMER,
    ("GET", "/queues/{queue_id}/stats"): CONSUMER,
}
# Paths anyone may call, with or without a token (all of them fixed paths, so also their route templates).
OPEN_ROUTES = frozenset(
    {"/health", "/openapi.json"}
    # /docs and /redoc with their assets (app/gateway/routes/docs.py): no data in them.
    | {"/docs", "/docs/oauth2-redirect", "/redoc", "/docs/assets/{name}"}
    | {
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/docs/assets/redoc.standalone.js",
        "/docs/assets/favicon.png",
    }
    # The web console's static files (app/gateway/routes/console.py): no data; the page asks for an admin token.
    | {"/console", "/console/", "/console/console.css", "/console/console.js"}
)
ROLE_SCOPE_KEY = "fastqueue.auth_role"
AUTH_REQUIRED_STATE = "auth_required"


def allowed(role: str, method: str, route_path: str) -> bool:
    return role == ADMIN or REQUIRED_ROLE.get((method, route_path)) == role


def _digest(token: bytes) -> bytes:
    # Equal-length digests: compare_digest then takes the same time whatever the lengths of the tokens.
    return hashlib.sha256(token).digest()


class AuthMiddleware:
    """Authentication, before routing: every request outside OPEN_ROUTES needs a known bearer token, or
    gets 401 here, before its body is read. The token's role goes into the scope for `authorize`."""

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str]) -> None:
        if not tokens:
            raise ValueError("AuthMiddleware needs at least one token")
        self.app = app
        self.tokens = [(_digest(token.encode("ascii")), role) for token, role in tokens.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _path(scope) in OPEN_ROUTES:
            await self.app(scope, receive, send)
            return
        presented = _bearer_token(scope)
        role = None if presented is None else self._role_of(presented)
        if role is None:
            if presented is None:
                detail, challenge = "Not authenticated: send the header Authorization: Bearer <token>", "Bearer"
            else:
                detail, challenge = "Invalid token", 'Bearer error="invalid_token"'
            response = JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        scope[ROLE_SCOPE_KEY] = role
        await self.app(scope, receive, send)

    def _role_of(self, presented: bytes) -> str | None:
        digest = _digest(presented)
        role = None
        for token_digest, token_role in self.tokens:  # every token, no early exit
            if hmac.compare_digest(digest, token_digest):
                role = token_role
        return role


async def authorize(request: Request) -> None:
    """Authorization, after routing (a dependency of every route, so the route template is known): 403
    unless the token's role may call this route. Does nothing while authentication is off."""
    if not getattr(request.app.state, AUTH_REQUIRED_STATE, False):
        return
    route_path = getattr(request.scope.get("route"), "path", None)
    if route_path in OPEN_ROUTES:
        return
    role = request.scope.get(ROLE_SCOPE_KEY)
    if role is None:  # the middleware lets no such request through; refuse rather than trust it did
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    if route_path is None or not allowed(role, request.method, route_path):
        needed = REQUIRED_ROLE.get((request.method, route_path or ""))
        roles = f"the {needed} or admin role" if needed else "the admin role"
        detail = f"Forbidden: {request.method} {route_path} needs {roles}; this token has the {role} role"
        raise HTTPException(403, detail)


def _path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    return path[len(root_path) :] if root_path and path.startswith(root_path) else path


def _bearer_token(scope: Scope) -> bytes | None:
    """The token of `Authorization: Bearer <token>` (scheme in any case), or None."""
    value = Headers(scope=scope).get("authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token.encode("latin-1")

"""/console: the web console, three static files served by the gateway itself (nothing from a CDN).

The files hold no data, so they are open even when FASTQUEUE_AUTH_TOKENS is set (app/gateway/auth.py lists these
paths in OPEN_ROUTES); the page asks for an admin token and sends it on every API call it makes.
/console redirects to /console/ so that the page's relative links (console.css, console.js, and the API
one level up) also work behind a reverse proxy that serves the gateway under a prefix.
"""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, PlainTextResponse

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console"

# Everything the page loads comes from this server: a browser enforces it, so a stray CDN link fails loudly.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
        " connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _file(name: str, media_type: str) -> FileResponse:
    return FileResponse(CONSOLE_DIR / name, media_type=media_type, headers=SECURITY_HEADERS)


# HEAD too (curl -I, link checkers): the same status and headers as GET, without the body.
@router.api_route("/console", methods=["GET", "HEAD"])
async def console_redirect() -> PlainTextResponse:
    # A body for whoever reads the answer in a terminal (curl without -L): a browser follows the Location.
    return PlainTextResponse(
        "The fastqueue console is a web page at /console/: open it in a browser (curl -L follows this redirect).\n",
        status_code=307,
        headers={"Location": "console/", "Cache-Control": "no-cache"},
    )


@router.api_route("/console/", methods=["GET", "HEAD"])
async def console_page() -> FileResponse:
    return _file("index.html", "text/html; charset=utf-8")


@router.api_route("/console/console.css", methods=["GET", "HEAD"])
async def console_css() -> FileResponse:
    return _file("console.css", "text/css; charset=utf-8")


@router.api_route("/console/console.js", methods=["GET", "HEAD"])
async def console_js() -> FileResponse:
    return _file("console.js", "text/javascript; charset=utf-8")

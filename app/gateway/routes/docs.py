"""/docs (Swagger UI) and /redoc (ReDoc), with their scripts and styles served by the gateway itself, so
both work without internet access (FastAPI's own pages load them from a CDN).

The assets are the builds that the fastapi-offline package ships (its `static` folder; only those files
are used, not its FastAPI subclass). They hold no data, so they are open like the pages (app/gateway/auth.py).
"""

from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

ASSETS = files("fastapi_offline") / "static"
ASSET_PREFIX = "/docs/assets/"
MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc", *(ASSET_PREFIX + name for name in MEDIA_TYPES))
TITLE = "fastqueue"
# Nothing from elsewhere: the pages keep working offline, and a link to a CDN (ReDoc's own logo is one)
# is not even tried. Both pages start their bundle with an inline script and style themselves inline.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


def _root(request: Request) -> str:
    # Behind a reverse proxy that serves the gateway under a prefix, links must carry it (as FastAPI's own do).
    root_path: str = request.scope.get("root_path", "")
    return root_path.rstrip("/")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{TITLE} - Swagger UI",
        oauth2_redirect_url=f"{root}/docs/oauth2-redirect",
        swagger_js_url=f"{root}{ASSET_PREFIX}swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSET_PREFIX}swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSET_PREFIX}favicon.png",
    )
    page.headers.update(PAGE_HEADERS)
    return page


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=f"{root}/openapi.json",
        title=f"{TITLE} - ReDoc",
        redoc_js_url=f"{root}{ASSET_PREFIX}redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSET_PREFIX}favicon.png",
        with_google_fonts=False,
    )
    page.headers.update(PAGE_HEADERS)
    return page


@router.get(ASSET_PREFIX + "{name}")
async def asset(name: str) -> Response:
    if name not in MEDIA_TYPES:
        raise HTTPException(404, "Not Found")
    return Response(
        (ASSETS / name).read_bytes(),
        media_type=MEDIA_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )

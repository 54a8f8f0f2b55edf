"""/console answers what a terminal user tries first: HEAD (curl -I) and a redirect with a body that says
where the console is."""

import httpx


def test_head_console_answers_like_get(client: httpx.Client) -> None:
    for path in ("/console", "/console/", "/console/console.js", "/console/console.css"):
        got = client.get(path)
        head = client.head(path)
        assert head.status_code == got.status_code, f"HEAD {path}: {head.status_code}"
        assert head.headers.get("location") == got.headers.get("location")
        assert head.content == b""


def test_console_redirect_says_where_the_console_is(client: httpx.Client) -> None:
    response = client.get("/console")
    assert response.status_code == 307
    assert response.headers["location"] == "console/"
    assert response.headers["content-type"].startswith("text/plain")
    assert "/console/" in response.text and "browser" in response.text, response.text

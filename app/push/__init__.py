"""Push delivery (issue 20, docs/push.md): `fastqueue worker` POSTs the messages of every queue with a
push_endpoint to that endpoint, acks on 2xx and nacks with backoff otherwise.

- dispatcher.py: the asyncio loop: settings, LISTEN wake-ups, leasing with consume, settling.
- client.py: a minimal HTTP/1.1 client (one connection per request, no redirects, 64 KiB cap).
- safety.py: which addresses an endpoint may resolve to, checked at every connection.
- wire.py: the request bodies and headers (wrapped, unwrapped) and the fastqueue-signature header.
- window.py: the per-endpoint AIMD window and the retry delays.
"""

from .dispatcher import PushDelivery

__all__ = ["PushDelivery"]

"""Per-endpoint concurrency (AIMD) and the retry delays of push delivery (docs/push.md)."""

import random

# A queue without retry backoff: 10 s doubling per delivery attempt up to 600 s, with jitter.
RETRY_MIN_SECONDS = 10
RETRY_MAX_SECONDS = 600


def retry_delay(delivery_attempts: int, rng: random.Random | None = None) -> int:
    """Seconds before a failed push is tried again, on a queue without its own retry backoff:
    min(600, 10 * 2^(attempts - 1)), then a random value between half of it and all of it ("equal
    jitter"), never under 10 s, so that messages that failed together do not come back together."""
    rng = rng or random.Random()
    base = min(RETRY_MAX_SECONDS, RETRY_MIN_SECONDS << min(max(delivery_attempts, 1) - 1, 10))
    return max(RETRY_MIN_SECONDS, round(base / 2 + rng.random() * base / 2))


class Window:
    """How many requests may be in flight to one endpoint: grows by one per window's worth of
    successes (+1/window per success), halves on a failure, between 1 and the cap."""

    def __init__(self, cap: int, initial: float = 1.0) -> None:
        self.cap = cap
        self.size = max(1.0, min(float(cap), initial))
        self.in_flight = 0
        self.failing = False

    @property
    def limit(self) -> int:
        return max(1, min(self.cap, int(self.size)))

    @property
    def free(self) -> int:
        return max(0, self.limit - self.in_flight)

    def set_cap(self, cap: int) -> None:
        self.cap = cap
        self.size = max(1.0, min(float(cap), self.size))

    def succeeded(self) -> bool:
        """Returns True when the endpoint recovers (it was failing)."""
        self.size = min(float(self.cap), self.size + 1.0 / self.size)
        recovered, self.failing = self.failing, False
        return recovered

    def failed(self) -> bool:
        """Returns True when the endpoint starts failing (it was not)."""
        self.size = max(1.0, self.size / 2)
        started, self.failing = not self.failing, True
        return started

"""Configuration from FASTQUEUE_* environment variables (and a .env file, if present)."""

from functools import lru_cache
from typing import Literal

from psycopg.conninfo import conninfo_to_dict
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .limits import (
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_MESSAGE_BYTES_CEILING,
)

# URL schemes users paste from SQLAlchemy-style configs (the quickstart uses the psycopg2 one).
# make run's project-local PostgreSQL (scripts/local-settings.sh has the same default).
LOCAL_PGPORT = 54329

_URL_SCHEMES = ("postgresql+psycopg2://", "postgresql+psycopg://", "postgres://")


PUBLISHER = "publisher"
CONSUMER = "consumer"
ADMIN = "admin"
ROLES = (PUBLISHER, CONSUMER, ADMIN)
# uvicorn's levels (the logging module knows all but trace).
LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]

_FORMAT = "Write TOKEN:ROLE[,TOKEN:ROLE...] with ROLE one of publisher, consumer, admin."


def parse_auth_tokens(value: str) -> dict[str, str]:
    """token -> role. Raises ValueError naming the entry at fault by its position, never its text (it
    may be a token)."""
    if not value.strip():
        raise ValueError("set but empty: unset it to leave the API open, or give tokens. " + _FORMAT)
    tokens: dict[str, str] = {}
    for number, entry in enumerate(value.split(","), start=1):
        token, colon, role = entry.strip().rpartition(":")
        if not entry.strip():
            raise ValueError(f"entry {number} is empty (two commas in a row?). {_FORMAT}")
        if not colon or not token:
            raise ValueError(f"entry {number} is not TOKEN:ROLE. {_FORMAT}")
        if role not in ROLES:
            raise ValueError(
                f"entry {number} does not end with a known role (publisher, consumer or admin, in lower case). "
                + _FORMAT
            )
        if not all("!" <= character <= "~" for character in token):
            raise ValueError(
                f"the token of entry {number} has a space or a character outside printable ASCII:"
                " it could not be sent in an Authorization header"
            )
        if token in tokens:
            raise ValueError(f"entry {number} repeats the token of an earlier entry")
        tokens[token] = role
    return tokens


def to_conninfo(database_url: str) -> str:
    """A libpq URL for psycopg 3, whichever of the accepted schemes the user wrote."""
    for scheme in _URL_SCHEMES:
        if database_url.startswith(scheme):
            return "postgresql://" + database_url[len(scheme) :]
    return database_url


class Settings(BaseSettings):
    # hide_input_in_errors: a refused value may hold a token or a password; errors name the variable only.
    model_config = SettingsConfigDict(
        env_prefix="FASTQUEUE_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    # Unset: the project-local PostgreSQL that `make run` starts (scripts/run.sh), on 127.0.0.1 and
    # FASTQUEUE_PGPORT, so that the CLI finds it with nothing configured.
    database_url: str | None = None
    # Sharding (docs/sharding.md): the shards' URLs, comma-separated; database_url is then the router.
    shard_urls: str | None = None
    router_password: SecretStr | None = None
    pgport: int = Field(LOCAL_PGPORT, ge=1, le=65535)
    database_pool_min_size: int = 1
    # As many as the concurrent requests a process is expected to serve (the bench's 16 clients): with
    # fewer, requests queue for a connection, which measured slower, not faster (docs/configuration.md).
    database_pool_max_size: int = 16
    database_pool_timeout_seconds: float = 5
    # A request waits at most this long for a row another session has locked, then gets 503.
    database_lock_timeout_seconds: float = 5
    # And no single call runs longer than this (purging a huge queue is the likeliest to reach it).
    database_statement_timeout_seconds: float = 60
    # Loopback: with FASTQUEUE_AUTH_TOKENS unset the API is open, and any web page the developer opens could
    # reach a server that listens on every interface. The Docker image sets 0.0.0.0 inside its container.
    server_host: str = "127.0.0.1"
    server_port: int = 8000
    server_num_workers: int = 1
    queue_cleanup_interval_seconds: float = 60
    # `fastqueue worker` tries a rotation of the message store this often (docs/storage.md, Rotation).
    store_rotation_interval_seconds: float = Field(1, gt=0)
    log_level: LogLevel = "info"
    # data + attributes as JSON text, in bytes; the gateway passes it to PostgreSQL on every connection.
    max_message_bytes: int = Field(DEFAULT_MAX_MESSAGE_BYTES, ge=1, le=MAX_MESSAGE_BYTES_CEILING)
    # The largest body of a batch publish, in bytes (never less than one message's body allows).
    max_batch_bytes: int = Field(DEFAULT_MAX_BATCH_BYTES, ge=1, le=MAX_MESSAGE_BYTES_CEILING)
    # The most bytes of messages one consume (or peek) answers: consume() leases no more than fit, always one.
    max_response_bytes: int = Field(DEFAULT_MAX_RESPONSE_BYTES, ge=1, le=2**62)
    # TOKEN:ROLE[,TOKEN:ROLE...]; unset: the API is open. Parsed (and refused if malformed) by app/gateway/auth.py.
    auth_tokens: SecretStr | None = None
    # Push delivery (docs/push.md): allow endpoints on loopback, private, link-local and multicast
    # addresses. The gateway and the worker pass it to SQL as fastqueue.push_allow_private_networks.
    push_allow_private_networks: bool = False

    @field_validator("database_url")
    @classmethod
    def _accepted_scheme(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("postgresql://") or value.startswith(_URL_SCHEMES)):
            raise ValueError(
                "FASTQUEUE_DATABASE_URL must start with postgresql://"
                " (postgresql+psycopg2:// and postgresql+psycopg:// are accepted too)"
            )
        if value is not None:
            try:  # libpq's own parser: a URL it cannot read fails here, not at the first connection
                conninfo_to_dict(to_conninfo(value))
            except Exception as exc:
                raise ValueError(
                    "FASTQUEUE_DATABASE_URL is not a URL libpq can read (check its quoting: a password with"
                    " @, / or : is written percent-encoded)"
                ) from exc
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("auth_tokens")
    @classmethod
    def _well_formed_tokens(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_auth_tokens(value.get_secret_value())  # raises ValueError saying what is wrong
        return value

    @property
    def tokens(self) -> dict[str, str] | None:
        """token -> role, or None when authentication is off."""
        if self.auth_tokens is None:
            return None
        return parse_auth_tokens(self.auth_tokens.get_secret_value())

    @property
    def conninfo(self) -> str:
        if self.database_url is None:
            return f"postgresql://postgres@127.0.0.1:{self.pgport}/fastqueue"
        return to_conninfo(self.database_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()

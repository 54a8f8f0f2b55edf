"""Configuration from FASTQUEUE_* environment variables (and a .env file, if present)."""

from functools import lru_cache

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# URL schemes users paste from SQLAlchemy-style configs (the quickstart uses the psycopg2 one).
_URL_SCHEMES = ("postgresql+psycopg2://", "postgresql+psycopg://", "postgres://")


def to_conninfo(database_url: str) -> str:
    """A libpq URL for psycopg 3, whichever of the accepted schemes the user wrote."""
    for scheme in _URL_SCHEMES:
        if database_url.startswith(scheme):
            return "postgresql://" + database_url[len(scheme) :]
    return database_url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FASTQUEUE_", env_file=".env", extra="ignore")

    database_url: str = "postgresql://fastqueue:fastqueue@localhost:5432/fastqueue"
    database_pool_min_size: int = 1
    database_pool_max_size: int = 10
    database_pool_timeout_seconds: float = 5
    server_host: str = "0.0.0.0"
    server_port: int = 8000
    server_num_workers: int = 1
    queue_cleanup_interval_seconds: float = 60
    log_level: str = "info"

    @field_validator("database_url")
    @classmethod
    def _accepted_scheme(cls, value: str) -> str:
        if not (value.startswith("postgresql://") or value.startswith(_URL_SCHEMES)):
            raise ValueError(
                "FASTQUEUE_DATABASE_URL must start with postgresql://"
                " (postgresql+psycopg2:// and postgresql+psycopg:// are accepted too)"
            )
        return value

    @property
    def conninfo(self) -> str:
        return to_conninfo(self.database_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()

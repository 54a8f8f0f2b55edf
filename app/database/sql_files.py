"""Where the SQL lives: db/ in a checkout, fastqueue/db/ inside an installed wheel."""

from pathlib import Path

# The top package: app/ in a checkout, fastqueue/ once installed.
_PACKAGE = Path(__file__).resolve().parent.parent


def sql_root() -> Path:
    if (_PACKAGE / "db" / "migrations").is_dir():  # installed from a wheel
        return _PACKAGE / "db"
    checkout = _PACKAGE.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "db" / "migrations").is_dir():
        return checkout / "db"
    raise FileNotFoundError(
        "fastqueue's SQL files (db/migrations, db/functions, db/views) are missing from this install"
    )


def bookkeeping_file() -> Path:
    """The table of applied migrations, created (if missing) before any migration runs."""
    return sql_root() / "schema_migrations.sql"


def migration_files() -> list[Path]:
    """Versioned migrations, NNNN_description.sql, in the order they apply."""
    return sorted((sql_root() / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))


def function_files() -> list[Path]:
    """The SQL API: one CREATE OR REPLACE FUNCTION file each, re-applied on every migrate, in name
    order (with check_function_bodies off, so they may use each other in any order)."""
    return sorted((sql_root() / "functions").glob("*.sql"))


def view_files() -> list[Path]:
    """Views over the API (CREATE OR REPLACE VIEW), re-applied after every function file: a view's
    query is checked when it is created, so what it calls must exist by then."""
    return sorted((sql_root() / "views").glob("*.sql"))


def repeatable_files() -> list[Path]:
    """What db-migrate re-applies after the migrations, in order: functions, then views."""
    return function_files() + view_files()

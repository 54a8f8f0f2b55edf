"""The one place that uses migra (unmaintained since 2022, pinned in the `migra` extra), so it can
be swapped for another differ. Used by tests/test_schema_drift.py and `make draft-migration`
(scripts/draft-migration.sh):

    python scripts/schema_diff.py build-declared URL          # db/schema.sql and the function files into URL
    python scripts/schema_diff.py MIGRATED_URL DECLARED_URL   # prints the SQL that turns the first into the second
"""

import sys
from pathlib import Path

import psycopg
from fastqueue.database.sql_files import bookkeeping_file, repeatable_files

DECLARED_SCHEMA = Path(__file__).resolve().parent.parent / "db" / "schema.sql"
# The roles and the schema privileges have one owner, this migration; db/schema.sql says so and does not repeat it.
ROLES_MIGRATION = Path(__file__).resolve().parent.parent / "db" / "migrations" / "0002_create_roles.sql"


def build_declared(conninfo: str) -> None:
    """Builds fastqueue in an empty database from db/schema.sql, the roles migration and the function files."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(bookkeeping_file().read_text())
        with conn.transaction():
            conn.execute(DECLARED_SCHEMA.read_text())
            conn.execute(ROLES_MIGRATION.read_text())
            conn.execute("set local check_function_bodies = off")
            for path in repeatable_files():
                conn.execute(path.read_text())


_COMMENTS = """
    select pg_describe_object(classoid, objoid, objsubid) as object, description
      from pg_description
     where pg_describe_object(classoid, objoid, objsubid) like '%fastqueue.%'
"""


def comment_diff(from_conninfo: str, to_conninfo: str) -> str:
    """COMMENT statements (as SQL comments, for review) where the two databases' comments differ.
    migra does not compare comments, and constraint comments are the API's error messages."""

    def comments(conninfo: str) -> dict[str, str]:
        with psycopg.connect(conninfo) as conn:
            return dict(conn.execute(_COMMENTS).fetchall())

    source, target = comments(from_conninfo), comments(to_conninfo)
    lines = []
    for obj in sorted(source.keys() | target.keys()):
        if source.get(obj) != target.get(obj):
            lines.append(f"-- comment on {obj}: {source.get(obj)!r} -> {target.get(obj)!r}")
    return "\n".join(lines) + "\n" if lines else ""


def schema_diff(from_conninfo: str, to_conninfo: str) -> str:
    """SQL that turns schema fastqueue of the first database into that of the second ('' when equal):
    tables, constraints, indexes, types, functions, triggers and privileges from migra, then comments."""
    from migra import Migration  # imported here: only this module depends on migra
    from sqlbag import S

    def sqlalchemy_url(conninfo: str) -> str:
        return conninfo.replace("postgresql://", "postgresql+psycopg://", 1)

    with S(sqlalchemy_url(from_conninfo)) as source, S(sqlalchemy_url(to_conninfo)) as target:
        migration = Migration(source, target, schema="fastqueue")
        migration.set_safety(False)
        migration.add_all_changes(privileges=True)
        return migration.sql + comment_diff(from_conninfo, to_conninfo)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    if sys.argv[1] == "build-declared":
        build_declared(sys.argv[2])
        sys.exit(0)
    print(schema_diff(sys.argv[1], sys.argv[2]) or "-- no difference: db/schema.sql matches the migrations")

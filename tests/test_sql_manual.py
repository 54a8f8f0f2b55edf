"""fastqueue.manual(): what a psql user reads instead of `\\df+ fastqueue.*` — one row per public function
(no `_` helper), with its arguments, what it returns and its COMMENT."""

import psycopg


def test_manual_lists_the_public_functions_with_their_comments(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select name, arguments, returns, description from fastqueue.manual()").fetchall()
        public = {
            name
            for (name,) in conn.execute(
                "select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
                " where n.nspname = 'fastqueue' and p.proname not like '\\_%'"
            )
        }
    names = [row[0] for row in rows]
    assert names == sorted(names) and set(names) == public, set(names) ^ public
    assert not any(name.startswith("_") for name in names)
    by_name = {row[0]: row for row in rows}
    assert by_name["publish"][1].startswith("topic_id text, data jsonb")
    assert "fastqueue.messages" in by_name["publish"][2]
    assert all(row[3] for row in rows), [row[0] for row in rows if not row[3]]

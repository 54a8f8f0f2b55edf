"""The router itself (docs/sharding.md, The router database; Roles): every API function of the shards
has a route and a router version with the shard's signature and result, callers' roles are checked on
the router, and db-migrate refuses a shard count that PL/Proxy cannot map."""

import psycopg
import pytest
from fastqueue.commands.migrate import MigrationError
from fastqueue.commands.sharding import ROUTES, shard_urls
from psycopg import sql

from tests.sharding.conftest import Sharded

SIGNATURES = """
select p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_result(p.oid)
  from pg_proc p where p.pronamespace = 'fastqueue'::regnamespace and p.proname !~ '^_' and p.prokind = 'f'
 order by 1
"""


def test_every_shard_function_has_a_route_and_the_same_signature_on_the_router(
    sharded: Sharded,
) -> None:
    with sharded.shard(0) as shard, sharded.router() as router:
        on_shard = shard.execute(SIGNATURES).fetchall()
        on_router = router.execute(SIGNATURES).fetchall()
        procedures = {
            row[0]
            for row in shard.execute(
                "select proname from pg_proc where pronamespace = 'fastqueue'::regnamespace and prokind = 'p'"
            )
        }
    assert {name for name, _, _ in on_shard} | procedures == set(ROUTES)
    assert on_router == on_shard


def test_callers_roles_are_checked_on_the_router(sharded: Sharded) -> None:
    role = "fq_sharded_publisher"
    with sharded.router() as router:
        router.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        router.execute(sql.SQL("create role {} login in role fastqueue_publisher").format(sql.Identifier(role)))
        topic = "roles-" + role
        router.execute("select fastqueue.create_topic(%s)", (topic,))
    publisher_url = sharded.router_url.replace("postgres@", f"{role}@")
    try:
        with psycopg.connect(publisher_url, autocommit=True) as publisher:
            assert publisher.execute("select count(*) from fastqueue.publish(%s, '{}')", (topic,)).fetchone() == (0,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                publisher.execute("select fastqueue.create_topic('not-allowed')")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                publisher.execute("select * from fastqueue_router.placements")
    finally:
        with sharded.router() as router:
            router.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
            router.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_the_overview_views_answer_a_caller_granted_them(sharded: Sharded) -> None:
    """A login holding only fastqueue_admin (a gateway's, tests/api/test_gateway_login.py) reads every
    overview view on the router, as it does on one database."""
    role = "fq_sharded_admin"
    with sharded.router() as router:
        router.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
        router.execute(sql.SQL("create role {} login in role fastqueue_admin").format(sql.Identifier(role)))
    try:
        with psycopg.connect(sharded.router_url.replace("postgres@", f"{role}@"), autocommit=True) as admin:
            for view in ("queue_overview", "topic_overview", "store_overview"):
                admin.execute(sql.SQL("select count(*) from fastqueue.{}").format(sql.Identifier(view)))
    finally:
        with sharded.router() as router:
            router.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


@pytest.mark.parametrize(
    "urls",
    [
        "",
        "postgresql://a/x,postgresql://a/y,postgresql://a/z",
        "postgresql://a/x,postgresql://a/x",
    ],
)
def test_shard_urls_are_a_power_of_two_of_distinct_databases(urls: str) -> None:
    with pytest.raises(MigrationError):
        shard_urls(urls)

"""publish() inside the caller's own transaction: other sessions see the message only after commit,
and a rollback delivers nothing."""

import psycopg


def test_publish_is_delivered_only_when_the_callers_transaction_commits(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute("select fastqueue.create_topic('orders')")
        admin.execute("select fastqueue.create_queue('billing', 'orders', 30, 600)")

    with psycopg.connect(database_url) as publisher, psycopg.connect(database_url, autocommit=True) as consumer:
        publisher.execute("create temp table orders (id int)")
        publisher.commit()

        publisher.execute("insert into orders values (1)")
        publisher.execute("""select fastqueue.publish('orders', '{"order_id": 1}')""")
        assert consumer.execute("select * from fastqueue.consume('billing')").fetchall() == [], "seen before commit"
        publisher.rollback()
        assert consumer.execute("select * from fastqueue.consume('billing')").fetchall() == [], (
            "delivered after rollback"
        )

        publisher.execute("insert into orders values (2)")
        publisher.execute("""select fastqueue.publish('orders', '{"order_id": 2}')""")
        publisher.commit()
        delivered = consumer.execute("select data from fastqueue.consume('billing')").fetchall()
        assert delivered == [({"order_id": 2},)]

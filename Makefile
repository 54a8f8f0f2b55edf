# The README's two commands, and a few helpers. Everything real lives in scripts/.
.PHONY: run test stop draft-migration bench ha

run:  ## install what running needs, migrate and serve on 127.0.0.1:8000 (a project-local PostgreSQL when FASTQUEUE_DATABASE_URL is unset)
	@scripts/run.sh

test:  ## every test: pytest and pgTAP against a throwaway PostgreSQL
	scripts/test.sh $(ARGS)

stop:  ## stop the project-local PostgreSQL if something left it running, and say what it did
	@scripts/stop.sh

draft-migration:  ## print the SQL that turns the migrated schema into db/schema.sql, for review
	scripts/draft-migration.sh

bench:  ## measure: SQL (pgbench), HTTP, endurance, push and the PL/Proxy router (shards) against the project-local PostgreSQL; writes BENCHMARKS.md
	scripts/bootstrap.sh test
	.venv/bin/python -m bench $(ARGS)

ha:  ## a pg_auto_failover formation (monitor, primary, synchronous standby) on loopback: make ha [ARGS="stop|url|status"] (docs/ha.md)
	scripts/bootstrap.sh test
	scripts/ha-cluster.sh $(or $(ARGS),start)

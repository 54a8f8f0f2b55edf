-- The migrations' bookkeeping: fastqueue db-migrate runs this before anything else (app/commands/migrate.py),
-- then records each db/migrations/NNNN_name.sql it applies here, with its checksum. Idempotent: it runs
-- on every migrate, and it is not a migration itself (the migrations need it to be recorded).
create schema if not exists fastqueue;
create table if not exists fastqueue.schema_migrations (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
);
comment on table fastqueue.schema_migrations is 'Migrations applied by fastqueue db-migrate (db/migrations/NNNN_name.sql).';

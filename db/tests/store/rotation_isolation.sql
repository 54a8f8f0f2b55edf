-- rotate_store() refuses to run where its snapshot could be older than its lock: it reads the rows
-- it carries with a snapshot taken after the lock, which only READ COMMITTED gives (docs/storage.md,
-- Rotation). SERIALIZABLE is refused by the same test of transaction_isolation.
begin isolation level repeatable read;
select plan(1);
select throws_ok($$ select fastqueue.rotate_store() $$, '25000',
    'rotate_store() runs only in a READ COMMITTED transaction, not REPEATABLE READ',
    'rotate_store() refuses a REPEATABLE READ transaction.');
select * from finish();
rollback;

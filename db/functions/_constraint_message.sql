create or replace function fastqueue._constraint_message(constraint_name text)
returns text
language sql
stable
as $$
    -- The COMMENT on a fastqueue constraint is the sentence a caller who broke it should read.
    select coalesce(
        (select obj_description(c.oid, 'pg_constraint')
           from pg_catalog.pg_constraint c
          where c.conname = _constraint_message.constraint_name
            and c.connamespace = 'fastqueue'::regnamespace
          limit 1),
        format('the value breaks the rule %I', _constraint_message.constraint_name))
$$;

comment on function fastqueue._constraint_message(text) is
'Internal: the human sentence for a broken fastqueue constraint (its COMMENT), used to turn a check violation into error 22023.';

revoke execute on function fastqueue._constraint_message(text) from public;

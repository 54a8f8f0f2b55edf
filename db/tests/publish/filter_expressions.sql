-- Filter expressions (_parse_filter, _parse_filter_expression, _expression_matches): one table of
-- expressions. A valid one is parsed and evaluated against the attributes beside it; an invalid
-- one must raise 22023 whose message gives the 1-based position of the fault.
begin;

create temp table filter_cases (
    n serial primary key,
    filter text,
    attributes jsonb,       -- valid: what the message carries (null: no attributes)
    matches boolean,        -- valid: whether it passes; null marks an invalid expression
    error_position integer, -- invalid: the first "at position N" of the message
    about text not null
) on commit drop;

insert into filter_cases (filter, attributes, matches, error_position, about) values
    -- eq
    ('attributes.event = "created"', '{"event": "created"}', true, null, 'eq with the same value'),
    ('attributes.event = "created"', '{"event": "Created"}', false, null, 'eq is case-sensitive'),
    ('attributes.event = "created"', '{"other": "created"}', false, null, 'eq is false when the key is missing'),
    ('attributes.event = "created"', null, false, null, 'eq is false for null attributes'),
    ('attributes.event = ""', '{"event": ""}', true, null, 'eq with an empty string'),
    -- ne
    ('attributes.event != "created"', '{"event": "deleted"}', true, null, 'ne with another value'),
    ('attributes.event != "created"', '{"event": "created"}', false, null, 'ne with the same value'),
    ('attributes.event != "created"', '{"other": "x"}', true, null, 'ne is true when the key is missing (NOT of eq, as Pub/Sub)'),
    ('attributes.event != "created"', null, true, null, 'ne is true for null attributes'),
    -- has
    ('attributes:event', '{"event": ""}', true, null, 'has: an empty value is still present'),
    ('attributes:event', '{}', false, null, 'has is false for empty attributes'),
    ('attributes:event', null, false, null, 'has is false for null attributes'),
    ('attributes:x-request-id', '{"x-request-id": "1"}', true, null, 'unquoted keys may hold "-"'),
    -- hasPrefix
    ('hasPrefix(attributes.region, "eu-")', '{"region": "eu-west1"}', true, null, 'hasPrefix with a prefix'),
    ('hasPrefix(attributes.region, "eu-")', '{"region": "us-east1"}', false, null, 'hasPrefix with another start'),
    ('hasPrefix(attributes.region, "eu-")', '{"region": "eu-"}', true, null, 'hasPrefix with the whole value'),
    ('hasPrefix(attributes.region, "")', '{"region": "x"}', true, null, 'hasPrefix with an empty prefix'),
    ('hasPrefix(attributes.region, "eu-")', null, false, null, 'hasPrefix is false when the key is missing'),
    ('hasPrefix(attributes.region, "a%_")', '{"region": "abc"}', false, null, 'hasPrefix treats % and _ literally'),
    -- NOT and -
    ('NOT attributes:test', '{"event": "x"}', true, null, 'NOT has, key missing'),
    ('NOT attributes:test', '{"test": "1"}', false, null, 'NOT has, key present'),
    ('-attributes:test', '{"test": "1"}', false, null, '- is the short form of NOT'),
    ('NOT NOT attributes:test', '{"test": "1"}', true, null, 'NOT NOT cancels out'),
    ('NOT hasPrefix(attributes.region, "eu")', null, true, null, 'NOT hasPrefix on a missing key'),
    -- AND, OR
    ('attributes:a AND attributes:b', '{"a": "1", "b": "2"}', true, null, 'AND, both present'),
    ('attributes:a AND attributes:b', '{"a": "1"}', false, null, 'AND, one missing'),
    ('attributes:a OR attributes:b OR attributes:c', '{"c": "3"}', true, null, 'OR, the last one present'),
    ('attributes:a OR attributes:b', '{"d": "4"}', false, null, 'OR, none present'),
    -- parentheses and nesting
    ('(attributes:a)', '{"a": "1"}', true, null, 'parentheses around one condition'),
    ('attributes.event = "created" AND (attributes.source = "web" OR attributes.source = "app")',
        '{"event": "created", "source": "app"}', true, null, 'AND of an OR in parentheses'),
    ('attributes.event = "created" AND (attributes.source = "web" OR attributes.source = "app")',
        '{"event": "created", "source": "cli"}', false, null, 'AND of an OR in parentheses, the OR fails'),
    ('(attributes:a AND attributes:b) OR NOT (attributes:c OR -attributes:d)', '{"d": "1"}', true, null,
        'OR of an AND and a negated OR'),
    ('((((attributes:a))))', '{"a": "1"}', true, null, 'deep parentheses'),
    ('NOT (attributes:a AND (attributes:b OR (attributes:c AND NOT attributes:d)))', '{"a": "1", "c": "1"}', false, null,
        'three levels of nesting'),
    -- quoted keys and escapes
    ('attributes."iana.org/language_tag" = "en"', '{"iana.org/language_tag": "en"}', true, null, 'a quoted key'),
    ('attributes:"my key"', '{"my key": "v"}', true, null, 'a quoted key with a space, after ":"'),
    ('hasPrefix(attributes."a.b", "x")', '{"a.b": "xy"}', true, null, 'a quoted key in hasPrefix'),
    ('attributes.q = "say \"hi\""', '{"q": "say \"hi\""}', true, null, 'an escaped double quote'),
    ('attributes.path = "C:\\temp"', '{"path": "C:\\temp"}', true, null, 'an escaped backslash'),
    ('attributes.t = "a\tb\nc"', jsonb_build_object('t', E'a\tb\nc'), true, null, 'tab and newline escapes'),
    ('attributes.u = "\u00e9\x41\102"', '{"u": "éAB"}', true, null, 'unicode, hexadecimal and octal escapes'),
    ('attributes.s = "AND OR NOT ( ) :"', '{"s": "AND OR NOT ( ) :"}', true, null, 'keywords and punctuation inside a string'),
    -- whitespace
    ('attributes.a="1"AND attributes:b', '{"a": "1", "b": ""}', true, null, 'no spaces around "="'),
    (E'  attributes.a\t=\n"1"   OR\n\tattributes : b  ', '{"a": "1"}', true, null, 'tabs, newlines and spaces anywhere between tokens'),
    ('hasPrefix( attributes.k ,"p" )', '{"k": "pq"}', true, null, 'spaces inside hasPrefix'),
    ('attributes:AND', '{"AND": "1"}', true, null, 'a key may be spelled like a keyword'),
    -- invalid
    ('attributes:a AND attributes:b OR attributes:c', null, null, 31, 'mixing AND and OR without parentheses'),
    ('attributes:a OR attributes:b AND attributes:c', null, null, 30, 'mixing OR and AND without parentheses'),
    ('attributes:a and attributes:b', null, null, 14, 'lower-case and'),
    ('not attributes:a', null, null, 1, 'lower-case not'),
    ('attributes.event == "x"', null, null, 19, 'a doubled "="'),
    ('attributes.event "x"', null, null, 18, 'no operator after attributes.KEY'),
    ('attributes.event = created', null, null, 20, 'an unquoted value'),
    ('attributes.event', null, null, 17, 'attributes.KEY alone'),
    ('attributes:', null, null, 12, 'attributes: without a key'),
    ('attributes', null, null, 11, 'attributes alone'),
    ('attributes:a attributes:b', null, null, 14, 'two conditions without AND or OR'),
    ('attributes:a )', null, null, 14, 'trailing garbage: a ")" without "("'),
    ('attributes:a AND', null, null, 17, 'AND at the end'),
    ('attributes.a = "x" extra', null, null, 20, 'trailing garbage: a word'),
    ('attributes.a = "abc', null, null, 16, 'an unterminated string'),
    ('attributes."my key = "v"', null, null, 24, 'a quote too few: the string after v never ends'),
    ('attributes.a = "\q"', null, null, 17, 'an unknown escape'),
    ('attributes.a = "\x4"', null, null, 17, '\x with one digit'),
    ('attributes.a = "\UFFFFFFFF"', null, null, 17, '\U naming no character (FFFFFFFF)'),
    ('attributes.a = "\U80000000"', null, null, 17, '\U with the top bit set'),
    ('attributes.a = "\U00110000"', null, null, 17, '\U past the last code point'),
    ('attributes.a = "\uD800"', null, null, 17, 'a lone surrogate'),
    ('attributes.a = "\UDFFF"', null, null, 17, '\U with too few digits'),
    ('attributes.a = "\000"', null, null, 17, 'a NUL in octal'),
    ('()', null, null, 1, 'empty parentheses'),
    ('attributes:a AND ()', null, null, 18, 'empty parentheses after AND'),
    ('(attributes:a', null, null, 14, 'an unclosed "("'),
    ('NOT', null, null, 4, 'NOT alone'),
    ('   ', null, null, 4, 'only whitespace'),
    ('hasPrefix(attributes.k "p")', null, null, 24, 'hasPrefix without a comma'),
    ('hasPrefix(attributes.k, p)', null, null, 25, 'hasPrefix with an unquoted prefix'),
    ('hasprefix(attributes.k, "p")', null, null, 1, 'hasPrefix spelled in lower case'),
    ('attributes.a = "x" # comment', null, null, 20, 'an unknown character'),
    ('attributes.a ~ "x"', null, null, 14, 'an unknown operator'),
    ('attributes.a = "x" AND NOT', null, null, 27, 'NOT at the end');

select plan((select count(*)::integer + count(*) filter (where matches is null)::integer + 7 from filter_cases));

-- The position an invalid filter's 22023 message names first (null when it names none); any
-- other error goes through, for the test to report.
create function pg_temp.error_position(filter text) returns integer
language plpgsql as $$
begin
    perform fastqueue._parse_filter(filter);
    return null;
exception when invalid_parameter_value then
    return substring(sqlerrm from 'at position (\d+)')::integer;
end;
$$;

select is(fastqueue._expression_matches(fastqueue._parse_filter(c.filter), c.attributes), c.matches,
          format('%s: %s', c.about, regexp_replace(c.filter, '\s+', ' ', 'g')))
  from filter_cases c
 where c.matches is not null
 order by c.n;

select throws_ok(format('select fastqueue._parse_filter(%L)', c.filter), '22023', null,
                 format('%s is refused with 22023: %s', c.about, c.filter))
  from filter_cases c
 where c.matches is null
 order by c.n;

select is(pg_temp.error_position(c.filter), c.error_position,
          format('%s: the message gives position %s', c.about, c.error_position))
  from filter_cases c
 where c.matches is null
 order by c.n;

select throws_ok($$ select fastqueue._parse_filter('attributes.a = "\UFFFFFFFF"') $$,
    '22023', 'filter: escape sequence at position 17 is not a character text can hold',
    'An escape beyond the character range gets the parser''s own message with its position.');

-- The tree, and the limits.
select is(fastqueue._parse_filter('NOT attributes:a AND hasPrefix(attributes."k 1", "p") AND attributes.b != "c"'),
    '{"op": "and", "args": [{"op": "not", "arg": {"op": "has", "key": "a"}},
                            {"op": "prefix", "key": "k 1", "value": "p"},
                            {"op": "ne", "key": "b", "value": "c"}]}'::jsonb,
    'The tree: one "and" node for the level, "not" wrapping its term, keys unquoted.');
select ok(fastqueue._parse_filter(null) is null and fastqueue._parse_filter('') is null,
    'A null or empty filter parses to null.');
select ok(fastqueue._expression_matches(null, '{"a": "1"}') and fastqueue._expression_matches(null, null),
    'A null tree (no filter expression) passes every message.');
select is(fastqueue._parse_filter('attributes.k = "' || repeat('v', 239) || '"'),
    jsonb_build_object('op', 'eq', 'key', 'k', 'value', repeat('v', 239)),
    'A filter of exactly 256 characters parses.');
select throws_ok($$ select fastqueue._parse_filter('attributes.k = "' || repeat('v', 240) || '"') $$,
    '22023', 'filter must be 1 to 256 characters',
    'A filter of 257 characters is refused with the length rule''s message.');
select is(fastqueue._parse_filter(repeat('(', 120) || 'attributes:a' || repeat(')', 120)),
    '{"op": "has", "key": "a"}'::jsonb,
    'Parentheses nested as deep as 256 characters allow parse.');

select * from finish();
rollback;

-- Region containment in SQL: one function, the twin of laowu.domain.regions.rollup. A GB/T 2260 code and the
-- levels above it, from the code's shape alone (460106 → {460106,460100,460000}; 460100 → {460100,460000};
-- a PP00DD county → itself and its province; anything but six ASCII digits → {}). ``scope`` covers ``code``
-- exactly when ``scope = ANY(region_rollup(code))``, which is ``code LIKE laowu.domain.regions.prefix(scope) || '%'``.
--
-- It replaces the copies written inline as ARRAY[r, left(r, 4) || '00', left(r, 2) || '0000']: the cover tables'
-- trigger (0016) and the statistics recount (laowu.store.stats). tests/integration/test_sql_twins.py holds it
-- to the Python function over every code of the GB/T 2260 table and malformed input.
--
-- IMMUTABLE and a single expression, so the planner inlines it; duplicates are dropped keeping the first, as
-- dict.fromkeys does in Python.
CREATE OR REPLACE FUNCTION region_rollup(code text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN code ~ '^[0-9]{6}$'
                THEN ARRAY(SELECT x FROM unnest(ARRAY[code, left(code, 4) || '00', left(code, 2) || '0000'])
                                         WITH ORDINALITY AS u(x, n)
                            GROUP BY x ORDER BY min(n))
                ELSE '{}'::text[] END;

-- The cover tables' trigger, now through it (same rows: it already dropped duplicates with DISTINCT).
CREATE OR REPLACE FUNCTION region_covers_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I (code, %I) SELECT DISTINCT x, n.%I FROM new_rows n, unnest(n.regions) r, '
        'unnest(region_rollup(r)) x ON CONFLICT DO NOTHING',
        TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    RETURN NULL;
END
$$;

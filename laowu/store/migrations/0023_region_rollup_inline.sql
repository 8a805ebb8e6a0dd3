-- region_rollup (0021) without a sub-select: a function whose body holds a sub-select is never inlined, and the
-- cover tables' trigger evaluated an unnest, a GROUP BY and a sort for every region of every alert and subsidy row
-- the ledger writes. The same arrays, from the code's shape by plain CASE (tests/integration/test_sql_twins.py
-- holds it to laowu.domain.regions.rollup over every GB/T 2260 code):
--   PP0000 → {PP0000};  PPCC00 → {PPCC00, PP0000};  PP00DD → {PP00DD, PP0000};  PPCCDD → {PPCCDD, PPCC00, PP0000}.
CREATE OR REPLACE FUNCTION region_rollup(code text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE WHEN code !~ '^[0-9]{6}$' THEN '{}'::text[]
                WHEN right(code, 4) = '0000' THEN ARRAY[code]
                WHEN right(code, 2) = '00' OR substr(code, 3, 2) = '00' THEN ARRAY[code, left(code, 2) || '0000']
                ELSE ARRAY[code, left(code, 4) || '00', left(code, 2) || '0000'] END;

-- Alerts and subsidies belong to the regions they carry and to every region above those (API.md: household
-- and dispatch origin, for `region=` and for jurisdiction). Their lists walked the table in id order testing
-- `unnest(regions) LIKE` on each row: a sparse county's page read every row, 150 ms over 300,000 alerts and
-- 640 ms over 1,000,000 subsidies (`LIST=subsidies python -m benchmarks.worker_lists DSN`).
--
-- A cover table holds one (code, id) row per code a row is under — its regions and their city and province
-- codes, the same rollup as the statistics (laowu.domain.statistics.rollup). A page is then a range of one
-- code's keys in id order, whatever the region's size, with no plan to choose. A GIN index over the codes was
-- tried first: a GIN scan cannot stop at a page, and the planner, estimating a rare county at the default
-- 0.5 % of rows, walked the table testing the expression instead (3 s).
--
-- Filled by statement-level triggers, so every writer (ledger, sweeper, a previous release during a rolling
-- update) keeps them true. Regions never change once written and neither table deletes rows.

CREATE TABLE alert_regions (
    code     text NOT NULL,
    alert_id text NOT NULL,
    PRIMARY KEY (code, alert_id)
);
CREATE TABLE subsidy_regions (
    code       text NOT NULL,
    subsidy_id text NOT NULL,
    PRIMARY KEY (code, subsidy_id)
);

-- One function for both: TG_ARGV names the cover table and the key column.
CREATE OR REPLACE FUNCTION region_covers_fill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format(
        'INSERT INTO %I (code, %I) SELECT DISTINCT x, n.%I FROM new_rows n, unnest(n.regions) r, '
        'unnest(ARRAY[r, left(r, 4) || ''00'', left(r, 2) || ''0000'']) x ON CONFLICT DO NOTHING',
        TG_ARGV[0], TG_ARGV[1], TG_ARGV[1]);
    RETURN NULL;
END
$$;
CREATE TRIGGER alert_regions AFTER INSERT ON alerts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION region_covers_fill('alert_regions', 'alert_id');
CREATE TRIGGER subsidy_regions AFTER INSERT ON subsidies REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION region_covers_fill('subsidy_regions', 'subsidy_id');

-- What was written before this migration (inside its transaction: writers wait, as for 0015's index).
INSERT INTO alert_regions (code, alert_id)
SELECT DISTINCT x, a.alert_id
  FROM alerts a, unnest(a.regions) r, unnest(ARRAY[r, left(r, 4) || '00', left(r, 2) || '0000']) x;
INSERT INTO subsidy_regions (code, subsidy_id)
SELECT DISTINCT x, s.subsidy_id
  FROM subsidies s, unnest(s.regions) r, unnest(ARRAY[r, left(r, 4) || '00', left(r, 2) || '0000']) x;

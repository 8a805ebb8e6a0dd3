-- The statistics sum subsidies per region and brand of the placement each was accrued from. Joining
-- placements for that took 97 ms for a province after `make bench`'s ledger run (114,373 subsidies, 221,626
-- placements); the ledger and the sweeper now write both on the subsidy itself.
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS origin_region text;
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS brand_id text;
UPDATE subsidies s SET origin_region = p.origin_region, brand_id = p.brand_id
  FROM placements p WHERE p.placement_id = s.placement_id AND s.origin_region IS NULL;

-- Expand, not contract (deploy/README.md: a release's migrations must work with the previous release's code):
-- ledger consumers of the previous release, still running during a rolling update, insert subsidies without
-- the new columns. This fills them from the placement, so no subsidy drops out of the figures. A later
-- release makes both columns NOT NULL and drops the trigger.
CREATE OR REPLACE FUNCTION subsidies_scope_from_placement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.origin_region IS NULL OR NEW.brand_id IS NULL THEN
        SELECT p.origin_region, p.brand_id INTO NEW.origin_region, NEW.brand_id
          FROM placements p WHERE p.placement_id = NEW.placement_id;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER subsidies_scope BEFORE INSERT ON subsidies
    FOR EACH ROW EXECUTE FUNCTION subsidies_scope_from_placement();

CREATE INDEX IF NOT EXISTS subsidies_origin ON subsidies (origin_region text_pattern_ops);
CREATE INDEX IF NOT EXISTS subsidies_brand ON subsidies (brand_id);

-- The statistics sum subsidies per region and brand of the placement each was accrued from. Joining
-- placements for that took 97 ms for a province after `make bench`'s ledger run (114,373 subsidies, 221,626
-- placements); the ledger and the sweeper now write both on the subsidy itself.
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS origin_region text;
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS brand_id text;
UPDATE subsidies s SET origin_region = p.origin_region, brand_id = p.brand_id
  FROM placements p WHERE p.placement_id = s.placement_id AND s.origin_region IS NULL;
-- Every subsidy is accrued from a placement; a writer that does not know the columns must fail, not vanish
-- from the figures.
ALTER TABLE subsidies ALTER COLUMN origin_region SET NOT NULL;
ALTER TABLE subsidies ALTER COLUMN brand_id SET NOT NULL;
CREATE INDEX IF NOT EXISTS subsidies_origin ON subsidies (origin_region text_pattern_ops);
CREATE INDEX IF NOT EXISTS subsidies_brand ON subsidies (brand_id);

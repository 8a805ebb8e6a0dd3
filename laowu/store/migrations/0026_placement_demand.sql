-- A placement remembers the demand and position it filled (issue 19), so that the employer turning the person
-- away (未到岗, placement.rejected) gives the post back to the demand. Older placements have none.
ALTER TABLE placements ADD COLUMN demand_id text;
ALTER TABLE placements ADD COLUMN position_id text;

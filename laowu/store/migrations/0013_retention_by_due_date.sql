-- Retention (稳岗) at 3 and 6 months becomes a streamed figure: its cells are keyed by the day a placement
-- becomes due (YYYY-MM-DD) and the API sums those due by today, instead of scanning every placement at each
-- read (47 ms per overview for 221,626 placements, growing with the ledger).
--
-- Upgrading a ledger that already holds confirmed placements: their retention cells are written by one
-- `laowu stats recount --fix` (it waits for a consistent cut, so nothing is counted twice); until then the
-- overview's retention counts only placements confirmed or ended after the upgrade.
ALTER TABLE stats_figures DROP CONSTRAINT IF EXISTS stats_figures_month_check;
ALTER TABLE stats_figures ADD CONSTRAINT stats_figures_month_check
    CHECK (month = '' OR month ~ '^[0-9]{4}-[0-9]{2}(-[0-9]{2})?$');

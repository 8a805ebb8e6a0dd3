-- Issue 19: labour flows (劳务流向), kept by the stream worker's flow agent (streams/flows.py) and recounted by
-- `laowu stats recount` (laowu.store.flows). Cells at the codes the dispatches give; coarser levels are sums.
CREATE TABLE flow_figures (
    origin_region      text NOT NULL,
    destination_region text NOT NULL,
    month              text NOT NULL,  -- YYYY-MM of the departure, Beijing time
    brand_id           text NOT NULL,
    distance_class     text NOT NULL CHECK (distance_class IN ('cross_province', 'cross_city', 'cross_county', 'in_county')),
    metric             text NOT NULL CHECK (metric IN ('sent', 'confirmed')),
    value              numeric NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (origin_region, destination_region, month, brand_id, distance_class, metric)
);
CREATE INDEX flow_figures_destination ON flow_figures (destination_region text_pattern_ops);
CREATE INDEX flow_figures_origin ON flow_figures (origin_region text_pattern_ops);

-- The flow agent's own idempotency (the statistics sink has stats_applied_events): a redelivered chunk adds nothing.
CREATE TABLE flow_applied_events (
    event_id   uuid PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flow_applied_events_age ON flow_applied_events (applied_at);

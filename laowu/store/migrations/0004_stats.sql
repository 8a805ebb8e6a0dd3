-- Output statistics (统计) kept by the stream processor (streams/), the live feed, and their bookkeeping.
-- Written only by the statistics sink (and `laowu stats recount --fix`); read by the API.

-- One figure per cell: dim 'all' (key ''), 'region' / 'destination' (GB/T 2260 code at every level),
-- 'brand' (brand_id); month '' = all time, else 'YYYY-MM' (Beijing). Values are sums (counts or yuan).
CREATE TABLE stats_figures (
    dim        text NOT NULL CHECK (dim IN ('all', 'region', 'brand', 'destination')),
    key        text NOT NULL,
    month      text NOT NULL CHECK (month = '' OR month ~ '^[0-9]{4}-[0-9]{2}$'),
    metric     text NOT NULL,
    value      numeric(20, 2) NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dim, key, month, metric)
);

-- Distinct counts (workers ever dispatched / confirmed): a row per member; a figure grows only when a row is new.
CREATE TABLE stats_members (
    dim       text NOT NULL,
    key       text NOT NULL,
    month     text NOT NULL,
    metric    text NOT NULL,
    worker_id text NOT NULL,
    PRIMARY KEY (dim, key, month, metric, worker_id)
);

-- Ledger-change (and alert) events already applied: a redelivered event is recognised here and skipped, in the
-- same transaction as the figures it moved. Kept longer than the ledger-changes topic's retention (30 days).
CREATE TABLE stats_applied_events (
    event_id   uuid PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stats_applied_events_age ON stats_applied_events (applied_at);

-- The live feed (GET /v1/feed). Rows are inserted under a transaction-level advisory lock taken just before the
-- insert, so ids are handed out in commit order and "id > last seen" never skips a row committed later.
CREATE TABLE feed_events (
    id         bigserial PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('ledger', 'stats', 'alert')),
    regions    text[] NOT NULL DEFAULT '{}',
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feed_events_age ON feed_events (created_at);

CREATE INDEX placements_origin ON placements (origin_region text_pattern_ops);
CREATE INDEX placements_brand ON placements (brand_id);

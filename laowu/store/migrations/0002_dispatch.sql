-- Organized labor output (有组织劳务输出), placements, follow-up service (跟踪服务), alerts, subsidies, outbox.

CREATE TABLE dispatches (
    dispatch_id        text PRIMARY KEY,
    organizer_id       text NOT NULL,
    brand_id           text NOT NULL,
    mode               text NOT NULL,
    origin_region      text NOT NULL,
    destination_region text NOT NULL,
    employer_id        text NOT NULL,
    employer_name      text NOT NULL,
    employer_uscc      text,
    positions          jsonb NOT NULL DEFAULT '[]',
    departure_date     date NOT NULL,
    group_transport    boolean NOT NULL DEFAULT false,
    status             text NOT NULL CHECK (status IN ('applied', 'rejected')),
    reason             text,
    occurred_at        timestamptz NOT NULL,
    source             text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- Per worker of a dispatch: dispatched (a placement exists) or rejected with the reason.
CREATE TABLE dispatch_workers (
    dispatch_id  text NOT NULL,
    worker_id    text NOT NULL,
    placement_id text NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('dispatched', 'rejected')),
    reason       text,
    PRIMARY KEY (dispatch_id, worker_id)
);

CREATE TABLE placements (
    placement_id       text PRIMARY KEY,
    dispatch_id        text NOT NULL,
    worker_id          text NOT NULL,
    employer_id        text NOT NULL,
    organizer_id       text NOT NULL,
    brand_id           text NOT NULL,
    origin_region      text NOT NULL,
    destination_region text NOT NULL,
    departure_date     date NOT NULL,
    status             text NOT NULL CHECK (status IN ('dispatched', 'confirmed', 'rejected', 'ended')),
    position           text,
    start_date         date,
    monthly_wage       numeric(12, 2),
    contract           boolean,
    contract_months    integer,
    reject_reason      text,
    end_date           date,
    end_reason         text,
    first_followup_date date,
    last_followup_date date,
    priority_group     boolean NOT NULL DEFAULT false,
    version            integer NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX placements_worker ON placements (worker_id);
CREATE INDEX placements_open ON placements (status, departure_date);
CREATE INDEX placements_dispatch ON placements (dispatch_id);

CREATE TABLE followups (
    followup_id       text PRIMARY KEY,
    placement_id      text NOT NULL,
    worker_id         text NOT NULL,
    date              date NOT NULL,
    channel           text NOT NULL,
    employment_status text NOT NULL,
    monthly_wage      numeric(12, 2),
    satisfaction      integer,
    problems          text[] NOT NULL DEFAULT '{}',
    services          text[] NOT NULL DEFAULT '{}',
    event_id          uuid NOT NULL,
    source            text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX followups_placement ON followups (placement_id, date);

-- alert_id is deterministic (kind + subject), so raising twice is a no-op.
CREATE TABLE alerts (
    alert_id     text PRIMARY KEY,
    kind         text NOT NULL,
    worker_id    text NOT NULL,
    placement_id text,
    regions      text[] NOT NULL DEFAULT '{}',
    due_at       date,
    raised_at    timestamptz NOT NULL,
    closed_at    timestamptz,
    detail       text
);
CREATE INDEX alerts_open ON alerts (kind) WHERE closed_at IS NULL;

CREATE TABLE subsidies (
    subsidy_id      text PRIMARY KEY,
    kind            text NOT NULL,
    worker_id       text NOT NULL,
    organization_id text NOT NULL,
    placement_id    text NOT NULL,
    amount          numeric(12, 2) NOT NULL,
    rule_version    text NOT NULL,
    accrued_at      timestamptz NOT NULL,
    regions         text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX subsidies_worker ON subsidies (worker_id);
CREATE INDEX subsidies_org ON subsidies (organization_id);

-- Derived events written in the ledger's transaction and relayed to Kafka afterwards (transactional outbox),
-- so a crash between commit and publish loses nothing.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL,
    key        text NOT NULL,
    value      jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Casework on alerts (跟踪帮扶, issue 20): who answers for an alert, and every step taken on it.
-- A row appears with the first step (an alert nobody touched is an open case without one). The ledger writes the
-- casework columns; the sweeper writes only the escalation columns, so neither overwrites the other's.
CREATE TABLE alert_cases (
    alert_id        text PRIMARY KEY,
    state           text NOT NULL DEFAULT 'open',
    assignee        text,
    team            text,
    acknowledged_at timestamptz,
    closed_at       timestamptz,
    outcome         text,
    reopened_at     timestamptz,
    escalated_to    text,
    escalated_at    timestamptz,
    version         integer NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_cases_assignee ON alert_cases (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX alert_cases_team ON alert_cases (team) WHERE team IS NOT NULL;
CREATE INDEX alert_cases_escalated ON alert_cases (escalated_to) WHERE escalated_to IS NOT NULL;

-- The people's steps, with who (the envelope's actor) and when (event time); the alert's own raising, closing and
-- escalation are read from alerts / alert_cases beside them.
CREATE TABLE alert_case_events (
    seq         bigserial PRIMARY KEY,
    alert_id    text NOT NULL,
    event_id    uuid NOT NULL UNIQUE,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor       jsonb,
    detail      jsonb NOT NULL DEFAULT '{}',
    changes     jsonb NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_case_events_alert ON alert_case_events (alert_id, occurred_at, seq);

-- Raising an alert for a whole county (employment_drop) names no worker or placement.
CREATE INDEX IF NOT EXISTS alerts_kind_raised ON alerts (kind, raised_at);

-- Issue 21: organizations (机构) and the subsidy workflow from entitlement to payment record.

-- The rule period (year) and the region whose rules and budget decided an entitlement. Rows of older releases
-- get the Beijing year of their accrual; their rule region is looked up from the rules when NULL.
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS period integer;
ALTER TABLE subsidies ADD COLUMN IF NOT EXISTS rule_region text;
UPDATE subsidies SET period = extract(year FROM accrued_at AT TIME ZONE 'Asia/Shanghai')::int WHERE period IS NULL;

-- Where an entitlement's workflow stands (no row: entitled, not applied for). One person, one kind, once per
-- rule period is looked up by (worker_id, kind, period).
CREATE TABLE IF NOT EXISTS subsidy_claims (
    subsidy_id       text PRIMARY KEY REFERENCES subsidies (subsidy_id),
    kind             text NOT NULL,
    worker_id        text NOT NULL,
    period           integer NOT NULL,
    rule_region      text NOT NULL,
    amount           numeric(12, 2) NOT NULL,
    status           text NOT NULL,
    applicant_id     text,
    applied_at       timestamptz,
    application_note text,
    reviewer_id      text,
    reviewed_at      timestamptz,
    review_reason    text,
    checked          jsonb NOT NULL DEFAULT '[]',
    notice_id        text,
    notice_start     date,
    notice_end       date,
    objections       jsonb NOT NULL DEFAULT '[]',
    paid_on          date,
    voucher_number   text,
    paid_amount      numeric(12, 2),
    version          integer NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS subsidy_claims_rivals ON subsidy_claims (worker_id, kind, period);
CREATE INDEX IF NOT EXISTS subsidy_claims_notice ON subsidy_claims (notice_id) WHERE notice_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS subsidy_claims_status ON subsidy_claims (status, subsidy_id);

-- A region's yearly budget is in the rules (data); what approvals committed and payments paid is here, one row
-- locked by the batch that changes it, so two ledger consumers cannot both spend the last yuan.
CREATE TABLE IF NOT EXISTS subsidy_budgets (
    rule_region text NOT NULL,
    year        integer NOT NULL,
    committed   numeric(14, 2) NOT NULL DEFAULT 0,
    paid        numeric(14, 2) NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rule_region, year)
);

CREATE TABLE IF NOT EXISTS subsidy_events (
    seq         bigserial PRIMARY KEY,
    subsidy_id  text NOT NULL,
    event_id    uuid NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    actor       jsonb,
    changes     jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS subsidy_events_subsidy ON subsidy_events (subsidy_id, seq);

-- The registry of organizations. A broker who is a person has an ID number: encrypted, masked, as a worker's.
CREATE TABLE IF NOT EXISTS organizations (
    org_id               text PRIMARY KEY,
    kind                 text NOT NULL,
    name                 text NOT NULL,
    region_code          text NOT NULL,
    uscc                 text,
    id_number_enc        text,
    id_number_masked     text,
    contact_name         text,
    contact_phone_enc    text,
    contact_phone_masked text,
    status               text NOT NULL,
    first_use            boolean NOT NULL DEFAULT false,
    registered_by        text,
    registered_at        timestamptz,
    status_reason        text,
    verified_by          text,
    version              integer NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS organizations_region ON organizations (region_code text_pattern_ops);
CREATE INDEX IF NOT EXISTS organizations_status ON organizations (status, org_id);

CREATE TABLE IF NOT EXISTS organization_events (
    seq         bigserial PRIMARY KEY,
    org_id      text NOT NULL,
    event_id    uuid NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    actor       jsonb,
    changes     jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS organization_events_org ON organization_events (org_id, seq);

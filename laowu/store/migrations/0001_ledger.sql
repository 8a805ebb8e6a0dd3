-- Real-name ledger (实名制台账), brand resource library (资源库), receipts, consumer offsets, idempotency.

CREATE TABLE event_receipts (
    event_id    uuid PRIMARY KEY,
    type        text NOT NULL,
    status      text NOT NULL CHECK (status IN ('accepted', 'applied', 'rejected')),
    reason      text,
    source      text,
    entity_id   text,
    accepted_at timestamptz NOT NULL DEFAULT now(),
    decided_at  timestamptz
);

-- Offsets live here, written in the same transaction as the ledger rows they cover.
CREATE TABLE consumer_offsets (
    group_id    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status_code  integer NOT NULL,
    body         jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

CREATE TABLE brands (
    brand_id         text PRIMARY KEY,
    name             text NOT NULL,
    region_code      text NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    category         text NOT NULL,
    level            text NOT NULL,
    status           text NOT NULL,
    industry         text,
    occupation_code  text,
    operator         jsonb,
    trademark_number text,
    integrity_rating text,
    field_times      jsonb NOT NULL DEFAULT '{}',
    version          integer NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX brands_region ON brands (region_code text_pattern_ops);

CREATE TABLE brand_events (
    seq         bigserial PRIMARY KEY,
    brand_id    text NOT NULL,
    event_id    uuid NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    actor       jsonb,
    changes     jsonb NOT NULL
);
CREATE INDEX brand_events_brand ON brand_events (brand_id, seq);

-- One row per natural person. id_number_enc / phone_enc are AES-256-GCM ciphertexts; worker_id is the
-- keyed hash (blind index) of the ID number, so exact lookups never scan or decrypt.
CREATE TABLE workers (
    worker_id            text PRIMARY KEY,
    id_number_enc        text NOT NULL,
    id_number_masked     text NOT NULL,
    name                 text NOT NULL,
    sex                  text NOT NULL CHECK (sex IN ('M', 'F')),
    birth_date           date NOT NULL,
    phone_enc            text,
    phone_masked         text,
    household_region     text NOT NULL CHECK (household_region ~ '^[0-9]{6}$'),
    occupation_code      text,
    brand_ids            text[] NOT NULL DEFAULT '{}',
    priority_groups      text[] NOT NULL DEFAULT '{}',
    certificates         jsonb NOT NULL DEFAULT '[]',
    trainings            jsonb NOT NULL DEFAULT '[]',
    workstation_ids      text[] NOT NULL DEFAULT '{}',
    state                text NOT NULL DEFAULT 'registered',
    current_placement_id text,
    last_followup_at     text,
    field_times          jsonb NOT NULL DEFAULT '{}',
    registered_at        timestamptz NOT NULL,
    version              integer NOT NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workers_region ON workers (household_region text_pattern_ops, worker_id);
CREATE INDEX workers_brands ON workers USING gin (brand_ids);
CREATE INDEX workers_state ON workers (state, worker_id);

-- Append-only audit trail per worker: who, when, from where, what changed.
CREATE TABLE worker_events (
    seq         bigserial PRIMARY KEY,
    worker_id   text NOT NULL,
    event_id    uuid NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    actor       jsonb,
    changes     jsonb NOT NULL
);
CREATE INDEX worker_events_worker ON worker_events (worker_id, seq);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER worker_events_append_only BEFORE UPDATE OR DELETE ON worker_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER brand_events_append_only BEFORE UPDATE OR DELETE ON brand_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

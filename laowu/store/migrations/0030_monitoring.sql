-- Priority-group employment monitoring (务工监测, issue 20): the stream worker's own copy of the facts the monthly
-- records are derived from (it never reads the ledger's tables while streaming). Each row is the latest view of
-- its entity in ledger.changed; `laowu stats recount` rebuilds them from the ledger and compares.
CREATE TABLE monitoring_people (
    worker_id        text PRIMARY KEY,
    household_region text NOT NULL,
    priority_groups  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX monitoring_people_priority ON monitoring_people (household_region text_pattern_ops)
    WHERE cardinality(priority_groups) > 0;

-- Confirmed placements (入职确认), ended or not.
CREATE TABLE monitoring_spells (
    placement_id       text PRIMARY KEY,
    worker_id          text NOT NULL,
    origin_region      text NOT NULL,
    destination_region text NOT NULL,
    start_date         date NOT NULL,
    end_date           date,
    end_reason         text,
    monthly_wage       numeric(12, 2),
    employer_id        text,
    version            integer NOT NULL
);
CREATE INDEX monitoring_spells_worker ON monitoring_spells (worker_id);

CREATE TABLE monitoring_followups (
    followup_id       text PRIMARY KEY,
    placement_id      text NOT NULL,
    worker_id         text NOT NULL,
    date              date NOT NULL,
    employment_status text NOT NULL,
    monthly_wage      numeric(12, 2)
);
CREATE INDEX monitoring_followups_worker ON monitoring_followups (worker_id);

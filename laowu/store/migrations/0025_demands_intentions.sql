-- Job demands (用工需求), workers' intentions (求职意向) and matching (issue 19).

-- The ledger's record of a demand: positions as posted (jsonb), posts filled per position (fills are counted
-- by the ledger, one batch at a time under the row lock, so a position is never overfilled).
CREATE TABLE demands (
    demand_id       text PRIMARY KEY,
    employer_id     text NOT NULL,
    employer_name   text NOT NULL,
    posted_by       text NOT NULL,
    title           text NOT NULL,
    positions       jsonb NOT NULL,
    origin_regions  text[] NOT NULL DEFAULT '{}',
    closing_date    date NOT NULL,
    posted_at       timestamptz NOT NULL,
    contact         jsonb NOT NULL DEFAULT '{}',
    agreement_id    text,
    description     text,
    status          text NOT NULL CHECK (status IN ('open', 'partly_filled', 'filled', 'closed')),
    filled          jsonb NOT NULL DEFAULT '{}',
    filled_priority jsonb NOT NULL DEFAULT '{}',
    closed_at       timestamptz,
    close_reason    text,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX demands_employer ON demands (employer_id, demand_id);
CREATE INDEX demands_posted_by ON demands (posted_by, demand_id);
CREATE INDEX demands_origins ON demands USING gin (origin_regions);

-- A dispatch may name the demand it fills, each worker the position.
ALTER TABLE dispatches ADD COLUMN demand_id text;
ALTER TABLE dispatch_workers ADD COLUMN position_id text;
CREATE INDEX dispatches_demand ON dispatches (demand_id) WHERE demand_id IS NOT NULL;

-- 求职意向 as last stated (newest occurred_at wins; the history is in worker_events).
ALTER TABLE workers ADD COLUMN intention jsonb;

-- Candidates for a shortlist: available people of a jurisdiction (household region, a text_pattern_ops range)
-- whose registered occupation is the position's, or whose intention names it (first choice: a btree range that
-- stops at the page; any choice: GIN, read only when the first choices are too few). Partial: only the available states
-- (laowu.domain.lifecycle.AVAILABLE), so people on a placement cost nothing.
CREATE INDEX workers_match_occupation ON workers (occupation_code, household_region text_pattern_ops, worker_id)
    WHERE state IN ('registered', 'separated', 'returned');
CREATE INDEX workers_match_first_choice
    ON workers ((intention -> 'occupations' ->> 0), household_region text_pattern_ops, worker_id)
    WHERE state IN ('registered', 'separated', 'returned');
CREATE INDEX workers_match_intention ON workers USING gin ((intention -> 'occupations'))
    WHERE state IN ('registered', 'separated', 'returned');

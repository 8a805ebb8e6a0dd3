-- Issue 19: cooperation agreements (劳务协作协议), the agreement a dispatch falls under, and workstations posted to a
-- destination region (驻外工作站). The rules are laowu.domain.agreements; the SQL is laowu.store.agreements.

CREATE TABLE agreements (
    agreement_id          text PRIMARY KEY,
    name                  text NOT NULL,
    origin_region         text NOT NULL CHECK (origin_region ~ '^[0-9]{6}$'),
    destination_region    text NOT NULL CHECK (destination_region ~ '^[0-9]{6}$'),
    origin_bureau_id      text NOT NULL,
    destination_bureau_id text NOT NULL,
    start_date            date NOT NULL,
    end_date              date NOT NULL CHECK (end_date >= start_date),
    target_headcount      integer NOT NULL CHECK (target_headcount > 0),
    brand_ids             text[] NOT NULL DEFAULT '{}',
    status                text NOT NULL CHECK (status IN ('active', 'ended')),
    ended_on              date,
    end_reason            text,
    signed_at             timestamptz,
    version               integer NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- Both sides list their agreements: a range of each region index.
CREATE INDEX agreements_origin ON agreements (origin_region text_pattern_ops);
CREATE INDEX agreements_destination ON agreements (destination_region text_pattern_ops);

-- The agreement a dispatch names (NULL: none); progress counts the dispatches of one agreement.
ALTER TABLE dispatches ADD COLUMN agreement_id text;
CREATE INDEX dispatches_agreement ON dispatches (agreement_id) WHERE agreement_id IS NOT NULL;

-- 驻外工作站: a workstation (its organization id) posted by the destination's bureau (or an admin) to a region. It
-- then sees, masked, the people whose active placement lies in that region, as the receiving bureau does
-- (laowu.store.scope). One posting per workstation; removing the row ends it.
CREATE TABLE workstation_postings (
    workstation_id text PRIMARY KEY,
    posted_region  text NOT NULL CHECK (posted_region ~ '^[0-9]{6}$'),
    posted_prefix  text NOT NULL,  -- laowu.domain.regions.prefix(posted_region): what "lies in it" means, in SQL
    note           text,
    posted_by      text NOT NULL,
    posted_at      timestamptz NOT NULL DEFAULT now()
);

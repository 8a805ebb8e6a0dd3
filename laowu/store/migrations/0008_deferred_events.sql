-- Events that arrived before what they depend on. Dispatches and worker events travel on different topics, so
-- a replay (or a producer that bypassed the API) may deliver a confirmation before its dispatch, or a dispatch
-- before the registration of one of its workers. Such an event waits here, keyed by what it waits for
-- ('placement:<id>' or 'worker:<id>'), and is applied, in arrival order, as soon as that arrives.
CREATE TABLE deferred_events (
    seq         bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    waits_for   text NOT NULL,
    envelope    jsonb NOT NULL,
    deferred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deferred_events_waits_for ON deferred_events (waits_for, seq);

-- One outbox row per writing transaction instead of one per derived event (see laowu/store/outbox.py): the
-- batch's messages framed back to back, and how many messages of each event type the row holds.
ALTER TABLE outbox RENAME TO outbox_rows;
ALTER SEQUENCE outbox_id_seq RENAME TO outbox_rows_id_seq;
ALTER INDEX outbox_pkey RENAME TO outbox_rows_pkey;

CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    messages   bytea NOT NULL,  -- frames: int2 topic length, int2 key length, int4 value length, topic, key, value
    counts     jsonb NOT NULL,  -- messages per event type, e.g. {"ledger.changed": 3412, "alert.raised": 2}
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Whatever an older relay left unpublished moves over as one row, in its original order.
WITH framed AS (
    SELECT id, created_at, convert_from(value, 'UTF8')::jsonb->>'type' AS type,
           int2send(octet_length(convert_to(topic, 'UTF8'))::int2) || int2send(octet_length(convert_to(key, 'UTF8'))::int2)
           || int4send(octet_length(value)) || convert_to(topic, 'UTF8') || convert_to(key, 'UTF8') || value AS frame
      FROM outbox_rows
)
INSERT INTO outbox (messages, counts, created_at)
SELECT string_agg(frame, ''::bytea ORDER BY id),
       (SELECT jsonb_object_agg(type, n) FROM (SELECT type, count(*) AS n FROM framed GROUP BY type) AS c),
       min(created_at)
  FROM framed
HAVING count(*) > 0;

DROP TABLE outbox_rows;

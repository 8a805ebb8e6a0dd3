-- The outbox holds each derived event as the exact JSON bytes to publish. As jsonb, PostgreSQL parsed every
-- envelope on insert and printed it again for the relay: a third of the database's time in `make bench`.
ALTER TABLE outbox ALTER COLUMN value TYPE bytea USING convert_to(value::text, 'UTF8');

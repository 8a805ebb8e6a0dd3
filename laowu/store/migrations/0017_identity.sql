-- Identity of the real-name ledger (issue 16): a registration elsewhere no longer takes a person over.
--
-- A further registration that declares another name or household region (户籍地) than the record's is not
-- applied: it is kept on the record for review (待核实), visible to every jurisdiction that sees the person
-- (GET /v1/workers/{id}/discrepancies). Entries: {field, recorded, declared, workstation_id, occurred_at}.
ALTER TABLE workers ADD COLUMN IF NOT EXISTS discrepancies jsonb NOT NULL DEFAULT '[]';

-- Masked means unrecoverable (API.md): the stored display form kept the last four characters (three sequence
-- digits and the check character), which with the birth month left about 31 candidate numbers. Keep the leading
-- digits only, as laowu.domain.identity.mask_id_number does for every new row (and on every read).
UPDATE workers
   SET id_number_masked = substring(id_number_masked from '^[0-9]{0,6}')
                          || repeat('*', length(id_number_masked) - length(substring(id_number_masked from '^[0-9]{0,6}')))
 WHERE length(id_number_masked) >= 16 AND id_number_masked !~ '^[0-9]{0,6}\*+$';

-- A worker also belongs, masked, to the destination region of each active placement (the receiving bureau,
-- 输入地; API.md "Jurisdiction"). A small jurisdiction's page collects its ids from one index per reason
-- (laowu.store.scope.worker_sources): this is the receiving region's.
CREATE INDEX IF NOT EXISTS placements_receiving ON placements (destination_region text_pattern_ops, worker_id)
    WHERE status IN ('dispatched', 'confirmed');

-- No query looks episodes up by fingerprint (they are read by incident, by key,
-- or all of them), yet every new alert paid for an insert into this index.
DROP INDEX IF EXISTS episodes_fingerprint;

-- No query looks episodes up by fingerprint (they are read by incident, by key,
-- or all of them in order), yet every new alert paid for an insert into this
-- index at a random place: one more page written per alert in a big store.
DROP INDEX IF EXISTS episodes_fingerprint;

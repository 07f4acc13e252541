-- Idempotency keys complete inside the command's own transaction.
--
-- claim_id: a fresh id each time a request claims (or takes over) a key. The completion in
-- the command's transaction matches it, so a request whose stale claim was taken over can no
-- longer complete the key (its transaction rolls back: the effect happens once).
-- location, etag: the Location and ETag headers of the first answer, replayed with it.
ALTER TABLE idempotency_keys
    ADD COLUMN claim_id uuid,
    ADD COLUMN location text CHECK (length(location) <= 2048),
    ADD COLUMN etag     text CHECK (length(etag) <= 256);

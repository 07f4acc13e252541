-- 0014_refresh_grace: two tabs refreshing with the same token. For USER_REFRESH_GRACE_S (10 s)
-- after a rotation the rotated token may be presented again and answers the same successor;
-- the successor is kept sealed (XChaCha20-Poly1305 under a subkey of HAAT_JWT_SECRET), never in
-- clear, and only for that window: the housekeeping purge and any revocation clear it.
ALTER TABLE refresh_tokens
    ADD COLUMN successor_sealed text,
    ADD CHECK (successor_sealed IS NULL OR rotated_at IS NOT NULL);

CREATE INDEX refresh_tokens_successor_idx ON refresh_tokens (rotated_at)
    WHERE successor_sealed IS NOT NULL;

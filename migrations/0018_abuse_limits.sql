-- 0018_abuse_limits: the user module's defences against hostile traffic (issue 14). Only
-- internal/user/repo_*.c touches these tables and columns.

-- Send budgets for one-time codes, per hour: per client address ("sms:ip:<addr>",
-- "email:ip:<addr>") and in all ("sms:*", "email:*"). One counter row per scope and hour,
-- taken with an upsert, so every instance shares them. Rows older than a day are purged.
CREATE TABLE send_budgets (
    scope text NOT NULL CHECK (char_length(scope) BETWEEN 3 AND 80),
    hour  timestamptz NOT NULL,
    sent  int NOT NULL DEFAULT 0 CHECK (sent >= 0),
    PRIMARY KEY (scope, hour)
);

CREATE INDEX send_budgets_hour_idx ON send_budgets (hour);

-- Failed one-time-code checks per account, for the daily cap: past it, a code alone no
-- longer logs the account in (the password still does). Purged after a day.
CREATE TABLE otp_failures (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    failed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX otp_failures_user_idx ON otp_failures (user_id, failed_at);
CREATE INDEX otp_failures_failed_at_idx ON otp_failures (failed_at);

-- No squatting: an email or a phone belongs to whoever verifies it. Unverified claims may
-- repeat (they never block a signup); a verified one is unique. Verifying clears the other
-- accounts' unverified claims on that address, hence the nullable columns.
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
DROP INDEX users_email_key;
DROP INDEX users_phone_key;
CREATE UNIQUE INDEX users_email_verified_key ON users (email) WHERE email_verified_at IS NOT NULL;
CREATE UNIQUE INDEX users_phone_verified_key ON users (phone) WHERE phone_verified_at IS NOT NULL;
CREATE INDEX users_email_idx ON users (email);
CREATE INDEX users_phone_idx ON users (phone);
-- Accounts nobody verified, for the housekeeping that deletes them after 7 days.
CREATE INDEX users_unverified_idx ON users (created_at)
    WHERE email_verified_at IS NULL AND phone_verified_at IS NULL;

-- A code asked for a destination that gets none (unknown, suspended, not of use) is still
-- written, closed at once and owned by nobody, so both paths of POST /v1/auth/otp do the same
-- work.
ALTER TABLE otps ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE otps ADD CONSTRAINT otps_owner_check CHECK (user_id IS NOT NULL OR closed_at IS NOT NULL);

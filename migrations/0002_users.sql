-- 0002_users: identity (internal/user). Only internal/user/repo_*.c touches these tables.
--
-- Secrets are never stored in clear: passwords as Argon2id strings, OTP codes and lookup keys
-- as HMAC-SHA-256 under a server subkey (pkg/crypto sec_mac_hex), refresh tokens as SHA-256.

CREATE TABLE users (
    id                uuid PRIMARY KEY,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 2 AND 100),
    -- Stored lower-cased; the unique index below is on the column itself.
    email             text NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 254
                                           AND email LIKE '_%@_%'),
    -- E.164, normalised by the application (+91XXXXXXXXXX for India).
    phone             text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
    password_hash     text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    email_verified_at timestamptz,
    phone_verified_at timestamptz,
    is_admin          boolean NOT NULL DEFAULT false,
    -- Set by an admin action; a suspended user cannot log in, refresh or use /v1/me.
    suspended_at      timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_phone_key ON users (phone);

-- A seller profile; its id IS the user's id (docs/events.md). Only what payouts need.
CREATE TABLE sellers (
    user_id             uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    display_name        text NOT NULL CHECK (char_length(display_name) BETWEEN 2 AND 80),
    payout_method       text NOT NULL CHECK (payout_method IN ('upi', 'bank')),
    -- name@bank, lower-cased: 2-256 name characters (a regex bound stops at 255, hence the
    -- length check) and a 2-64 letter handle.
    upi_vpa             text CHECK (upi_vpa ~ '^[a-z0-9._-]{2,}@[a-z]{2,64}$'
                                    AND char_length(split_part(upi_vpa, '@', 1)) <= 256),
    bank_account_name   text CHECK (char_length(bank_account_name) BETWEEN 2 AND 100),
    bank_account_number text CHECK (bank_account_number ~ '^[0-9]{9,18}$'),
    bank_ifsc           text CHECK (bank_ifsc ~ '^[A-Z]{4}0[A-Z0-9]{6}$'),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sellers_payout_check CHECK (
        (payout_method = 'upi' AND upi_vpa IS NOT NULL AND bank_account_name IS NULL
            AND bank_account_number IS NULL AND bank_ifsc IS NULL)
        OR (payout_method = 'bank' AND upi_vpa IS NULL AND bank_account_name IS NOT NULL
            AND bank_account_number IS NOT NULL AND bank_ifsc IS NOT NULL))
);

-- One-time codes. dest_key = HMAC(channel:destination) so unknown destinations leave no
-- personal data behind; code_hash = HMAC(otp id:code). At most one live code per
-- (dest_key, purpose): a new one closes the previous one.
CREATE TABLE otps (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel     text NOT NULL CHECK (channel IN ('sms', 'email')),
    purpose     text NOT NULL CHECK (purpose IN ('verify', 'login', 'reset_password')),
    dest_key    text NOT NULL CHECK (dest_key ~ '^[0-9a-f]{64}$'),
    code_hash   text NOT NULL CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    attempts    int NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    closed_at   timestamptz, -- used, superseded, or killed by the 5th wrong try
    CHECK (expires_at > created_at)
);

-- The lookup of the live code, and at most one live code per destination and purpose.
CREATE UNIQUE INDEX otps_live_key ON otps (dest_key, purpose) WHERE closed_at IS NULL;
CREATE INDEX otps_user_idx ON otps (user_id);
CREATE INDEX otps_expires_idx ON otps (expires_at);

-- OTP sends per destination (known or not: the throttle must not be an oracle) for the
-- limits 1 per 30 s and 10 per hour. Rows older than an hour are pruned.
CREATE TABLE otp_sends (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dest_key text NOT NULL CHECK (dest_key ~ '^[0-9a-f]{64}$'),
    sent_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX otp_sends_dest_idx ON otp_sends (dest_key, sent_at);
CREATE INDEX otp_sends_sent_at_idx ON otp_sends (sent_at);

-- Failed password logins per account (subject_key = HMAC of the user id, or of the login
-- name when no account matches, so unknown logins are throttled identically).
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_key text NOT NULL CHECK (subject_key ~ '^[0-9a-f]{64}$'),
    failed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_subject_idx ON login_failures (subject_key, failed_at);
CREATE INDEX login_failures_failed_at_idx ON login_failures (failed_at);

-- Refresh tokens: opaque to clients, stored as SHA-256. Rotation: each use sets rotated_at and
-- issues a successor in the same family; presenting a rotated one revokes the family.
CREATE TABLE refresh_tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid NOT NULL,
    token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz,
    CHECK (expires_at > created_at)
);

CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live_idx ON refresh_tokens (user_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

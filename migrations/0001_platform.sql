-- 0001_platform: tables shared by every module (pkg/outbox, pkg/idem).
-- schema_migrations itself is created by the migrator (pkg/db/migrate.c).

-- Domain events written in the same transaction as the change that caused them; workers
-- claim unprocessed rows with FOR UPDATE SKIP LOCKED and are woken by NOTIFY haat_outbox.
CREATE TABLE outbox_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     uuid NOT NULL UNIQUE,
    type         text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
    aggregate_id text,
    payload      jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    attempts     int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error   text,
    locked_until timestamptz
);

-- The work queue: only unprocessed events, in order.
CREATE INDEX outbox_events_pending_idx ON outbox_events (id) WHERE processed_at IS NULL;

-- Idempotency-Key store (docs/architecture.md, "Idempotency"): a claimed key has no status yet; a
-- completed one holds the first response for replay. Keys live 24 h.
CREATE TABLE idempotency_keys (
    scope         text NOT NULL CHECK (length(scope) BETWEEN 1 AND 512),
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash  text NOT NULL CHECK (length(request_hash) BETWEEN 1 AND 128),
    status_code   int CHECK (status_code BETWEEN 100 AND 599),
    content_type  text,
    response_body bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_completed_check
        CHECK ((completed_at IS NULL) = (status_code IS NULL))
);

-- Expiry (idem_purge_expired) scans by age.
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

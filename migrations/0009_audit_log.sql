-- 0009_audit_log: who did what to which record, for operator and admin actions (pkg/audit).
--
-- Shared by every module, like outbox_events: a command writes its row with audit_record()
-- inside its own transaction, so the row commits (or rolls back) with the change it records.
-- The log is append-only and kept for good: housekeeping never purges it, and the database
-- refuses UPDATE, DELETE and TRUNCATE on it (trigger below).

CREATE TABLE audit_log (
    id          uuid PRIMARY KEY,                -- UUIDv7 (pkg/ids), made by the server
    -- a user id, or 'cli' for an operator command (haat admin ...)
    actor_id    text NOT NULL CHECK (length(actor_id) BETWEEN 1 AND 100),
    -- '<area>.<verb>', e.g. 'admin.grant', 'user.suspend'
    action      text NOT NULL CHECK (length(action) <= 100
                                     AND action ~ '^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$'),
    target_kind text NOT NULL CHECK (target_kind IN ('user', 'product', 'order', 'notification')),
    target_id   text NOT NULL CHECK (length(target_id) BETWEEN 1 AND 100),
    reason      text CHECK (length(reason) <= 1000),
    before      jsonb,                           -- the relevant state before; NULL: none
    after       jsonb,                           -- ... and after
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Newest first by actor and by target, with a keyset cursor on (created_at, id):
--   WHERE actor_id = $1 AND (created_at, id) < ($2, $3) ORDER BY created_at DESC, id DESC
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, created_at DESC, id DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_kind, target_id, created_at DESC, id DESC);

-- Append-only. A statement-level trigger refuses every UPDATE, DELETE and TRUNCATE, even one
-- that matches no row, so a stray purge or fix-up fails at once rather than on the day it
-- first matches. ENABLE ALWAYS keeps it firing with session_replication_role = replica.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'audit rows are only ever inserted (pkg/audit)';
END
$$;

CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only;

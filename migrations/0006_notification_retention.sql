-- Sent and failed notifications are purged after NOTIFY_RETENTION_DAYS
-- (internal/notification): the purge walks this index oldest first.
CREATE INDEX notifications_done_created_idx ON notifications (created_at)
    WHERE status <> 'queued';

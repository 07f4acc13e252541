-- Processed outbox events are purged after OUTBOX_RETENTION_DAYS (pkg/outbox): the purge
-- walks this index oldest first instead of scanning the table.
CREATE INDEX outbox_events_processed_at_idx ON outbox_events (processed_at)
    WHERE processed_at IS NOT NULL;

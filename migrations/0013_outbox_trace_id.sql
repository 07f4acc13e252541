-- 0013_outbox_trace_id: the W3C trace id of the request (or job) that recorded an event, so
-- the work it causes later (notification deliveries, provider calls) joins the same trace.
-- NULL for events recorded outside any trace and for those before this migration.

ALTER TABLE outbox_events
    ADD COLUMN trace_id text CHECK (trace_id ~ '^[0-9a-f]{32}$');

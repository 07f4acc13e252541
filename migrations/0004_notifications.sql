-- 0004_notifications: the notification module's tables (internal/notification/repo_pg.c).
--
-- Two stages (see internal/notification/fanout.c and deliver.c):
--   fan-out   leases outbox_events (locked_until), turns one event into notification rows
--             (one per recipient and channel) and marks the event processed, in one
--             transaction;
--   delivery  leases one queued notification at a time (next_attempt_at moves past the
--             lease), sends it outside any transaction, then marks it sent / retries / failed.
-- A worker that dies mid-way leaves a lease that simply runs out: at-least-once delivery.

-- The OTP fast lane claims only this event type, through its own small index, so a backlog
-- of other events never sits in front of a login code. (The type is also named in the
-- statement notify_claim_events_priority.)
CREATE INDEX outbox_events_otp_pending_idx ON outbox_events (id)
    WHERE processed_at IS NULL AND type = 'otp.requested';

CREATE TABLE notifications (
    id               uuid PRIMARY KEY,               -- UUIDv7, made by the worker
    event_id         uuid NOT NULL,                  -- outbox_events.event_id
    event_type       text NOT NULL CHECK (length(event_type) BETWEEN 1 AND 100),
    user_id          uuid,                           -- recipient; NULL: OTP to an unknown address
    channel          text NOT NULL CHECK (channel IN ('email', 'sms')),
    destination      text NOT NULL CHECK (length(destination) BETWEEN 1 AND 320),
    -- who the message is for, for the once-only key: the user, else the address
    recipient        text NOT NULL GENERATED ALWAYS AS (coalesce(user_id::text, destination)) STORED,
    recipient_name   text,
    category         text NOT NULL CHECK (category IN
                         ('security', 'account', 'listings', 'orders', 'payments', 'chat',
                          'marketing')),
    priority         boolean NOT NULL DEFAULT false, -- the OTP fast lane
    subject          text,                           -- email only
    body             text NOT NULL,                  -- what the feed shows (codes masked)
    body_sealed      text,                           -- the real body, sealed, while unsent
    throttle_key     text,                           -- e.g. the conversation of a chat message
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
    attempts         int NOT NULL DEFAULT 0 CHECK (attempts >= 0), -- claims so far
    next_attempt_at  timestamptz NOT NULL DEFAULT now(), -- due time, pushed past a lease
    locked_until     timestamptz,                    -- lease of the worker sending it now
    last_error       text,
    event_created_at timestamptz NOT NULL,           -- for notification_delivery_seconds
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    -- An event reaches a recipient at most once per channel: the fan-out inserts with
    -- ON CONFLICT DO NOTHING, so redoing an event (a lease that ran out) adds nothing.
    CONSTRAINT notifications_once UNIQUE (event_id, recipient, channel),
    CONSTRAINT notifications_subject_email CHECK ((channel = 'email') = (subject IS NOT NULL)),
    CONSTRAINT notifications_sent_at CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    -- a secret lives only as long as the message is unsent
    CONSTRAINT notifications_secret_unsent CHECK (status = 'queued' OR body_sealed IS NULL),
    CONSTRAINT notifications_lease_queued CHECK (status = 'queued' OR locked_until IS NULL)
);

-- Delivery: due queued messages per lane, oldest due first. Sent and failed rows drop out.
CREATE INDEX notifications_due_idx ON notifications (priority, next_attempt_at)
    WHERE status = 'queued';

-- The feed: a user's notifications newest first, keyset (created_at, id).
CREATE INDEX notifications_feed_idx ON notifications (user_id, created_at DESC, id DESC)
    WHERE user_id IS NOT NULL;

-- Chat throttle: was this conversation notified to this user on this channel lately?
CREATE INDEX notifications_throttle_idx ON notifications (user_id, channel, throttle_key, created_at)
    WHERE throttle_key IS NOT NULL;

-- A user's choices; only categories they set are stored (defaults live in the code:
-- everything on except marketing). Security messages cannot be switched off, so no row
-- may say so.
CREATE TABLE notification_preferences (
    user_id    uuid NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'sms')),
    category   text NOT NULL CHECK (category IN
                   ('account', 'listings', 'orders', 'payments', 'chat', 'marketing')),
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel, category)
);

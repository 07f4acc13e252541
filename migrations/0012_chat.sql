-- 0012_chat: buyer-seller conversations, their messages, blocks and reports (internal/chat).
-- Only internal/chat/repo_*.c touches these tables. product_id, buyer_id and seller_id have no
-- foreign keys into other modules' tables (a module owns its tables; see 0003_catalog).
--
-- Ordering. Message ids are UUIDv7 made by the application, so two messages written at once
-- may commit in the other order than their ids. Every message therefore gets two positions
-- assigned in COMMIT order, each under a row lock held until commit:
--   seq  its place in the conversation (chat_conversations.last_seq, the conversation's row)
--   pos  its place in each participant's feed (chat_inboxes.pos, one row per user), for the
--        caller's own event stream GET /v1/me/events; chat_feed maps (user, pos) -> message.
-- after / before / Last-Event-ID resolve a message id to seq (or pos) and read by it.
--
-- Unread counts are counters on the member rows, kept exact in the transactions that change
-- them (a send adds 1 for the other party; a read recounts only the messages after the new
-- read position), so the inbox reads them without counting messages.

CREATE TABLE chat_conversations (
    id              uuid PRIMARY KEY,                -- UUIDv7 (pkg/ids)
    product_id      uuid NOT NULL,
    buyer_id        uuid NOT NULL,
    seller_id       uuid NOT NULL,
    last_seq        bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_message_id uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_conversations_one UNIQUE (product_id, buyer_id),
    CHECK (buyer_id <> seller_id)
);

-- One row per participant: the inbox (newest activity first, keyset on (updated_at, id)),
-- the read position and the exact unread count.
CREATE TABLE chat_members (
    user_id         uuid NOT NULL,
    conversation_id uuid NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    other_id        uuid NOT NULL,
    role            text NOT NULL CHECK (role IN ('buyer', 'seller')),
    read_seq        bigint NOT NULL DEFAULT 0 CHECK (read_seq >= 0),
    unread          bigint NOT NULL DEFAULT 0 CHECK (unread >= 0),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, conversation_id)
);

CREATE INDEX chat_members_inbox_idx ON chat_members (user_id, updated_at DESC, conversation_id DESC);

CREATE TABLE chat_messages (
    id              uuid PRIMARY KEY,                -- UUIDv7 (pkg/ids)
    conversation_id uuid NOT NULL REFERENCES chat_conversations (id) ON DELETE CASCADE,
    seq             bigint NOT NULL CHECK (seq >= 1),
    sender_id       uuid NOT NULL,
    body            text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT chat_messages_seq UNIQUE (conversation_id, seq)
);

-- The per-user send rate (messages by a sender in the last minute).
CREATE INDEX chat_messages_sender_idx ON chat_messages (sender_id, created_at);

-- A user's feed position: bumped (row locked until commit) by every message of any of the
-- user's conversations.
CREATE TABLE chat_inboxes (
    user_id uuid PRIMARY KEY,
    pos     bigint NOT NULL CHECK (pos >= 0)
);

CREATE TABLE chat_feed (
    user_id    uuid NOT NULL,
    pos        bigint NOT NULL,
    message_id uuid NOT NULL REFERENCES chat_messages (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, pos)
);

CREATE INDEX chat_feed_message_idx ON chat_feed (message_id);

-- blocker no longer hears from blocked: blocked cannot start or continue a conversation with
-- blocker (403 blocked).
CREATE TABLE chat_blocks (
    blocker_id uuid NOT NULL,
    blocked_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

-- Reports for admins, with the reported content as it was when reported.
CREATE TABLE chat_reports (
    id          uuid PRIMARY KEY,                    -- UUIDv7 (pkg/ids)
    kind        text NOT NULL CHECK (kind IN ('message', 'product', 'user')),
    target_id   uuid NOT NULL,
    reporter_id uuid NOT NULL,
    reason      text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
    snapshot    text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX chat_reports_newest_idx ON chat_reports (created_at DESC, id DESC);

-- Open event streams, on any instance, for the notification rule "no message.received while
-- the recipient watches": a stream's row lives while it is open and is refreshed by its
-- heartbeat; a row past expires_at (its process died) no longer counts.
-- conversation_id NULL: the user's all-conversations stream.
CREATE TABLE chat_presence (
    stream_id       uuid PRIMARY KEY,
    user_id         uuid NOT NULL,
    conversation_id uuid,
    expires_at      timestamptz NOT NULL
);

CREATE INDEX chat_presence_user_idx ON chat_presence (user_id, expires_at);

-- 0011_payments: payments, refunds, provider webhooks and the double-entry ledger
-- (internal/payment owns every table here).
--
-- Money is integer paise everywhere. The ledger (docs/decisions/0004-ledger.md) is the record
-- of every money movement: a transfer has a client-chosen id (e.g. 'capture:<payment id>'),
-- so posting it again is a no-op; its legs sum to zero, checked by the database at COMMIT;
-- transfers and legs are never updated or deleted; each account's balance is updated by the
-- database in the statement that inserts a leg, so it always equals the sum of its legs.

-- ---- payments -----------------------------------------------------------------------------

-- One attempt to pay an order. buyer_id, seller_id, amount and commission are copied from the
-- order when the attempt is made (the order module owns orders; there is no foreign key across
-- modules). Status only moves forward: requires_action -> processing -> succeeded | failed,
-- failed -> succeeded (a UPI retry the provider reports late), succeeded -> refunded.
CREATE TABLE payments (
    id               uuid PRIMARY KEY,             -- UUIDv7, made by the server
    order_id         uuid NOT NULL,
    buyer_id         uuid NOT NULL,
    seller_id        uuid NOT NULL,
    status           text NOT NULL DEFAULT 'requires_action'
                     CHECK (status IN ('requires_action', 'processing', 'succeeded', 'failed',
                                       'refunded')),
    method           text NOT NULL CHECK (method IN ('card', 'netbanking', 'upi')),
    amount_minor     bigint NOT NULL CHECK (amount_minor > 0),
    currency         text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    commission_minor bigint NOT NULL CHECK (commission_minor >= 0
                                            AND commission_minor <= amount_minor),
    provider         text NOT NULL CHECK (provider IN ('sandbox', 'razorpay')),
    provider_ref     text NOT NULL CHECK (length(provider_ref) BETWEEN 1 AND 100),
    checkout_url     text NOT NULL,
    return_url       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    succeeded_at     timestamptz,
    UNIQUE (provider, provider_ref)
);
CREATE INDEX payments_order_idx ON payments (order_id, created_at DESC);
-- At most one payment of an order holds the money at a time: a second success is refunded.
CREATE UNIQUE INDEX payments_one_succeeded_idx ON payments (order_id) WHERE status = 'succeeded';

-- A full refund of a succeeded payment: pending -> processed | failed. The refund job sends
-- pending refunds to the provider (leasing a row by pushing next_attempt_at ahead), retries
-- failures with backoff, and gives up after a bounded number of attempts (status failed,
-- last_error kept for operators).
CREATE TABLE payment_refunds (
    id              uuid PRIMARY KEY,
    payment_id      uuid NOT NULL UNIQUE REFERENCES payments (id),
    order_id        uuid NOT NULL,
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    reason          text NOT NULL CHECK (length(reason) <= 500),
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'processed', 'failed')),
    attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    provider_ref    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz
);
CREATE INDEX payment_refunds_due_idx ON payment_refunds (next_attempt_at) WHERE status = 'pending';
CREATE INDEX payment_refunds_failed_idx ON payment_refunds (created_at) WHERE status = 'failed';

-- Every webhook accepted from a provider (signature valid), with its raw body, once per
-- (provider, event id): a repeated event finds its row and changes nothing.
CREATE TABLE webhook_events (
    provider    text NOT NULL,
    event_id    text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 200),
    type        text NOT NULL,
    payment_id  uuid,
    body        bytea NOT NULL,
    -- what it did: 'succeeded', 'failed', 'refunded' (success on an order no longer payable),
    -- 'ignored' (the payment had moved past it), 'mismatch' (amount or currency differ: refused),
    -- 'unknown_payment'
    outcome     text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_id)
);

-- The sandbox provider's outgoing webhooks: what it will POST to haat's own webhook URL,
-- delivered by a job with retries and backoff (signed at each attempt, so a retry is never
-- stale).
CREATE TABLE sandbox_webhooks (
    id              uuid PRIMARY KEY,
    event_id        text NOT NULL UNIQUE,
    payment_id      uuid NOT NULL REFERENCES payments (id),
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX sandbox_webhooks_due_idx ON sandbox_webhooks (next_attempt_at)
    WHERE status = 'pending';

-- ---- the ledger ---------------------------------------------------------------------------

-- Accounts. Platform accounts are 'platform:<kind>'; a seller's are 'seller:<seller id>:<kind>'
-- (created on first use). Legs are signed: positive is a debit, negative a credit; balance_minor
-- is the sum of the account's legs (maintained by ledger_legs_apply below).
CREATE TABLE ledger_accounts (
    id            text PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('gateway_clearing', 'escrow_held', 'revenue',
                                                'refunds_payable', 'seller_pending',
                                                'seller_available', 'seller_paid_out')),
    seller_id     uuid,
    currency      text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    balance_minor bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind LIKE 'seller\_%') = (seller_id IS NOT NULL)),
    CHECK (id = CASE WHEN seller_id IS NULL THEN 'platform:' || kind
                     ELSE 'seller:' || seller_id || ':' || substr(kind, 8) END)
);
INSERT INTO ledger_accounts (id, kind) VALUES
    ('platform:gateway_clearing', 'gateway_clearing'),
    ('platform:escrow_held', 'escrow_held'),
    ('platform:revenue', 'revenue'),
    ('platform:refunds_payable', 'refunds_payable');

CREATE TABLE ledger_transfers (
    id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200), -- 'capture:<payment id>'
    kind       text NOT NULL CHECK (kind IN ('capture', 'refund', 'refund_paid')),
    order_id   uuid,
    payment_id uuid,
    currency   text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_transfers_order_idx ON ledger_transfers (order_id);

CREATE TABLE ledger_legs (
    transfer_id  text NOT NULL REFERENCES ledger_transfers (id),
    n            smallint NOT NULL CHECK (n >= 1),
    account_id   text NOT NULL REFERENCES ledger_accounts (id),
    amount_minor bigint NOT NULL CHECK (amount_minor <> 0),
    PRIMARY KEY (transfer_id, n)
);
CREATE INDEX ledger_legs_account_idx ON ledger_legs (account_id);

-- A leg moves its account's balance in the statement that inserts it.
CREATE FUNCTION ledger_legs_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ledger_accounts SET balance_minor = balance_minor + NEW.amount_minor
     WHERE id = NEW.account_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER ledger_legs_apply AFTER INSERT ON ledger_legs
    FOR EACH ROW EXECUTE FUNCTION ledger_legs_apply();

-- At COMMIT (deferred): every transfer that got legs in this transaction has at least two and
-- they sum to zero; otherwise the whole transaction fails with check_violation.
CREATE FUNCTION ledger_transfer_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total numeric;
    legs  int;
BEGIN
    SELECT coalesce(sum(amount_minor), 0), count(*) INTO total, legs
      FROM ledger_legs WHERE transfer_id = NEW.transfer_id;
    IF legs < 2 OR total <> 0 THEN
        RAISE EXCEPTION 'ledger transfer % is unbalanced (% legs summing to %)',
                        NEW.transfer_id, legs, total
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transfer_balanced';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ledger_transfer_balanced AFTER INSERT ON ledger_legs
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_balanced();

-- A transfer without legs is refused at COMMIT too.
CREATE FUNCTION ledger_transfer_has_legs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM ledger_legs WHERE transfer_id = NEW.id) THEN
        RAISE EXCEPTION 'ledger transfer % has no legs', NEW.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_transfer_balanced';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER ledger_transfer_has_legs AFTER INSERT ON ledger_transfers
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_has_legs();

-- Immutable: transfers and legs are only ever inserted. A correction is a new transfer.
CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is immutable: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'post a new transfer (payment_ledger_post) instead';
END
$$;
CREATE TRIGGER ledger_transfers_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_legs_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_legs
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
ALTER TABLE ledger_transfers ENABLE ALWAYS TRIGGER ledger_transfers_immutable;
ALTER TABLE ledger_legs ENABLE ALWAYS TRIGGER ledger_legs_immutable;

-- 0016_payouts: payouts of a seller's available money to their UPI id or bank account
-- (internal/payment owns the tables here).
--
-- A payout moves money out of the seller's available balance in the transaction that creates
-- it (ledger transfer 'payout:<payout id>': available -> in_transit), so two concurrent payouts
-- can never spend the same rupee. The provider is called later by a job, outside any
-- transaction; its answer (or the reconciliation job's) moves the payout forward only:
-- processing -> paid | failed, paid -> reversed (internal/payment/payout_state.c).

-- ---- the ledger: the accounts and transfer kinds of payouts -------------------------------

-- seller_in_transit: what left a seller's available balance for a payout not yet paid.
-- payouts: the platform's side of the money paid out to sellers (debit-normal: it rises as
-- escrow_held falls when a payout is paid, so escrow_held stays what the platform still holds).
ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('gateway_clearing', 'escrow_held', 'revenue', 'refunds_payable', 'payouts',
                    'seller_pending', 'seller_available', 'seller_in_transit',
                    'seller_paid_out'));
INSERT INTO ledger_accounts (id, kind) VALUES ('platform:payouts', 'payouts');

ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_kind_check;
ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_kind_check
    CHECK (kind IN ('capture', 'refund', 'refund_paid', 'commission', 'release', 'payout',
                    'payout_paid', 'payout_failed', 'payout_reversal'));

-- ---- payouts ------------------------------------------------------------------------------

-- destination_method and destination_last4 are copied from the seller's payout details when
-- the payout is made (the user module owns them); the full account number or VPA is never
-- stored here. provider_ref is NULL until the send job has handed the payout to the provider;
-- attempts / next_attempt_at lease and retry that send.
CREATE TABLE payouts (
    id                uuid PRIMARY KEY,           -- UUIDv7, made by the server
    seller_id         uuid NOT NULL,
    amount_minor      bigint NOT NULL CHECK (amount_minor >= 100),
    currency          text NOT NULL DEFAULT 'INR' CHECK (currency ~ '^[A-Z]{3}$'),
    status            text NOT NULL DEFAULT 'processing'
                      CHECK (status IN ('processing', 'paid', 'failed', 'reversed')),
    destination_method text NOT NULL CHECK (destination_method IN ('upi', 'bank')),
    destination_last4 text NOT NULL CHECK (length(destination_last4) BETWEEN 1 AND 4),
    provider          text NOT NULL CHECK (provider IN ('sandbox', 'razorpayx')),
    provider_ref      text CHECK (length(provider_ref) BETWEEN 1 AND 100),
    failure_reason    text CHECK (length(failure_reason) <= 500),
    attempts          int NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at   timestamptz NOT NULL DEFAULT now(),
    last_error        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    paid_at           timestamptz,
    failed_at         timestamptz,
    reversed_at       timestamptz,
    UNIQUE (provider, provider_ref)
);
CREATE INDEX payouts_seller_idx ON payouts (seller_id, created_at DESC, id DESC);
-- The send job's queue: processing payouts the provider has not been given yet.
CREATE INDEX payouts_unsent_idx ON payouts (next_attempt_at)
    WHERE status = 'processing' AND provider_ref IS NULL;
-- The reconciliation job's queue: processing payouts the provider has.
CREATE INDEX payouts_sent_idx ON payouts (updated_at)
    WHERE status = 'processing' AND provider_ref IS NOT NULL;

-- ---- the payout provider's records of a seller's destination (razorpayx) -------------------

-- A Contact and a Fund Account are made once per seller destination and reused by every later
-- payout to it. fingerprint is a keyed BLAKE2b hash of the destination (method, VPA or IFSC and
-- account number), so a changed destination gets a new fund account, and the account number
-- itself is not stored here.
CREATE TABLE payout_fund_accounts (
    seller_id       uuid NOT NULL,
    provider        text NOT NULL CHECK (provider IN ('razorpayx')),
    fingerprint     text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    contact_id      text NOT NULL CHECK (length(contact_id) BETWEEN 1 AND 100),
    fund_account_id text NOT NULL CHECK (length(fund_account_id) BETWEEN 1 AND 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (seller_id, provider, fingerprint)
);

-- ---- sealed bank account numbers (internal/user owns sellers) -------------------------------

-- A seller's bank account number is kept sealed (libsodium secretbox, nonce || box, under
-- HAAT_DATA_KEY) with its last 4 digits beside it; bank_account_number stays NULL for new
-- rows and is emptied for existing ones by `haat admin seal-accounts`. Its digits-only check
-- moved to the validation before sealing (user_account_number_valid).
ALTER TABLE sellers ADD COLUMN bank_account_sealed bytea,
                    ADD COLUMN bank_account_last4 text CHECK (bank_account_last4 ~ '^[0-9]{4}$');
ALTER TABLE sellers DROP CONSTRAINT sellers_bank_account_number_check;
ALTER TABLE sellers DROP CONSTRAINT sellers_payout_check;
ALTER TABLE sellers ADD CONSTRAINT sellers_payout_check CHECK (
    (payout_method = 'upi' AND upi_vpa IS NOT NULL AND bank_account_name IS NULL
        AND bank_account_number IS NULL AND bank_account_sealed IS NULL AND bank_ifsc IS NULL)
    OR (payout_method = 'bank' AND upi_vpa IS NULL AND bank_account_name IS NOT NULL
        AND bank_ifsc IS NOT NULL
        AND (bank_account_number IS NOT NULL OR bank_account_sealed IS NOT NULL)));
ALTER TABLE sellers ADD CONSTRAINT sellers_sealed_has_last4
    CHECK ((bank_account_sealed IS NULL) = (bank_account_last4 IS NULL));

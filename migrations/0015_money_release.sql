-- 0015_money_release: release of held money (commission to the platform, the rest to the
-- seller's available balance), payouts' accounts and transfer kinds, and what the seller's
-- transactions, the disputes queue and the revenue report read (internal/payment owns the
-- ledger tables, internal/order the orders table).
--
-- Transfer kinds added (docs/architecture.md, "The money flow"):
--   commission      commission:<order id>       seller pending -> platform revenue
--   release         release:<order id>          seller pending -> seller available
--   payout          payout:<payout id>          seller available -> seller in transit
--   payout_paid     payout_paid:<payout id>     seller in transit -> seller paid out
--   payout_failed   payout_failed:<payout id>   seller in transit -> seller available
--   payout_reversal payout_reversal:<payout id> seller paid out -> seller available
-- and the seller account 'seller:<id>:in_transit' (payouts sent, not yet confirmed).

ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_kind_check;
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_kind_check
    CHECK (kind IN ('gateway_clearing', 'escrow_held', 'revenue', 'refunds_payable',
                    'seller_pending', 'seller_available', 'seller_in_transit',
                    'seller_paid_out'));

ALTER TABLE ledger_transfers DROP CONSTRAINT ledger_transfers_kind_check;
ALTER TABLE ledger_transfers ADD CONSTRAINT ledger_transfers_kind_check
    CHECK (kind IN ('capture', 'refund', 'refund_paid', 'commission', 'release', 'payout',
                    'payout_paid', 'payout_failed', 'payout_reversal'));

-- The order in which transfers were posted: the seller's transactions are listed newest first
-- by it (two transfers of one transaction share created_at) and the balance after each is the
-- running sum in this order. Filled for existing rows by the table rewrite (no row trigger
-- fires, so the immutability triggers are not involved).
ALTER TABLE ledger_transfers ADD COLUMN seq bigserial;
CREATE UNIQUE INDEX ledger_transfers_seq_idx ON ledger_transfers (seq);
-- The revenue report reads transfers by day.
CREATE INDEX ledger_transfers_created_idx ON ledger_transfers (created_at);

-- The release job: delivered orders by delivery time.
CREATE INDEX orders_delivered_idx ON orders (delivered_at) WHERE status = 'delivered';
-- GET /v1/admin/disputes: open disputes, oldest first.
CREATE INDEX orders_disputed_idx ON orders (disputed_at, id) WHERE status = 'disputed';

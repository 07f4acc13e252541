-- 0010_orders: orders, their items and the buyers' reviews (module internal/order).
--
-- Invariants live in CHECK constraints:
--   * status is one of the life cycle's statuses; every status past pending_payment has its
--     timestamp (paid_at, shipped_at, ...) set by the one transition function.
--   * money: total_minor = subtotal_minor, commission_minor + seller_amount_minor =
--     total_minor, exactly; line_total_minor = unit_price_minor * quantity.
--   * one review per order.
-- buyer_id and seller_id are user ids without foreign keys to the user module's tables, and
-- order_items.product_id has none to products (a module owns its tables; the catalog is
-- reached through catalog.h). Stock movements name the order by id.

CREATE TABLE orders (
    id                  uuid PRIMARY KEY,
    buyer_id            uuid NOT NULL,
    seller_id           uuid NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending_payment', 'paid', 'shipped',
                            'delivered', 'completed', 'cancelled', 'disputed', 'refunded')),
    subtotal_minor      bigint NOT NULL CHECK (subtotal_minor > 0),
    total_minor         bigint NOT NULL CHECK (total_minor = subtotal_minor),
    currency            text NOT NULL DEFAULT 'INR' CHECK (currency = 'INR'),
    commission_bps      int NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
    commission_minor    bigint NOT NULL CHECK (commission_minor >= 0),
    seller_amount_minor bigint NOT NULL,
    shipping_address    jsonb NOT NULL CHECK (jsonb_typeof(shipping_address) = 'object'),
    payment_id          uuid,
    carrier             text,
    tracking_number     text,
    cancel_reason       text,
    cancelled_by        text CHECK (cancelled_by IN ('buyer', 'seller', 'system')),
    dispute_reason      text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    paid_at             timestamptz,
    shipped_at          timestamptz,
    delivered_at        timestamptz,
    completed_at        timestamptz,
    cancelled_at        timestamptz,
    disputed_at         timestamptz,
    refunded_at         timestamptz,
    CONSTRAINT orders_money_adds_up CHECK (commission_minor + seller_amount_minor = total_minor),
    CONSTRAINT orders_not_own CHECK (buyer_id <> seller_id),
    CONSTRAINT orders_paid_stamped CHECK (status IN ('pending_payment', 'cancelled')
                                          OR paid_at IS NOT NULL),
    CONSTRAINT orders_shipped_stamped CHECK (status NOT IN ('shipped', 'delivered')
                                             OR shipped_at IS NOT NULL),
    CONSTRAINT orders_delivered_stamped CHECK (status <> 'delivered' OR delivered_at IS NOT NULL),
    CONSTRAINT orders_cancelled_stamped CHECK (status <> 'cancelled' OR cancelled_at IS NOT NULL)
);

-- GET /v1/orders and GET /v1/seller/orders: newest first, keyset on (created_at, id).
CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_seller_idx ON orders (seller_id, created_at DESC, id DESC);
-- The expiry job: unpaid orders past expires_at.
CREATE INDEX orders_unpaid_idx ON orders (expires_at) WHERE status = 'pending_payment';
-- The auto-confirm job: shipped orders by shipping time.
CREATE INDEX orders_shipped_idx ON orders (shipped_at) WHERE status = 'shipped';

CREATE TABLE order_items (
    order_id         uuid NOT NULL REFERENCES orders (id),
    position         int NOT NULL CHECK (position >= 0),
    product_id       uuid NOT NULL,
    title            text NOT NULL,
    unit_price_minor bigint NOT NULL CHECK (unit_price_minor > 0),
    quantity         int NOT NULL CHECK (quantity BETWEEN 1 AND 1000000),
    line_total_minor bigint NOT NULL CHECK (line_total_minor = unit_price_minor * quantity),
    PRIMARY KEY (order_id, position),
    UNIQUE (order_id, product_id)
);

CREATE TABLE reviews (
    id         uuid PRIMARY KEY,
    order_id   uuid NOT NULL UNIQUE REFERENCES orders (id),
    seller_id  uuid NOT NULL,
    buyer_id   uuid NOT NULL,
    rating     int NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment    text CHECK (char_length(comment) <= 2000),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- GET /v1/sellers/{id}/reviews (newest first) and the seller's rating.
CREATE INDEX reviews_seller_idx ON reviews (seller_id, created_at DESC, id DESC);

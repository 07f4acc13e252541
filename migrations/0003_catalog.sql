-- 0003_catalog: categories, products, stock movements (module internal/catalog).
--
-- Invariants live in CHECK constraints; the code never relies on reading before writing:
--   * stock >= 0 always; stock is changed only by single guarded UPDATE statements.
--   * status follows stock: 'active' implies stock > 0, 'sold_out' implies stock = 0
--     (drafts and archived products may hold any stock).
--   * every stock change has its stock_movements row (written in the same statement).
-- seller_id is the seller's user id (docs/events.md). It deliberately has no foreign key to
-- the user module's tables: a module owns its tables and the events table is the seam along
-- which modules split into services (DESIGN.md "Data"); the seller role is checked from the
-- access token before any product is written.
-- Index choices come from EXPLAIN (ANALYZE) on 100k products:
-- docs/decisions/0003-search-config.md.

CREATE TABLE categories (
    slug     text PRIMARY KEY CHECK (slug ~ '^[a-z][a-z0-9_-]{0,39}$'),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    position int  NOT NULL UNIQUE
);

INSERT INTO categories (slug, name, position) VALUES
    ('electronics', 'Electronics', 1),
    ('mobiles', 'Mobiles & Tablets', 2),
    ('fashion', 'Fashion', 3),
    ('home', 'Home & Kitchen', 4),
    ('books', 'Books', 5),
    ('sports', 'Sports & Fitness', 6),
    ('vehicles', 'Vehicles', 7),
    ('furniture', 'Furniture', 8),
    ('kids', 'Kids & Baby', 9),
    ('beauty', 'Beauty & Personal Care', 10),
    ('toys', 'Toys & Games', 11),
    ('other', 'Other', 12);

CREATE TABLE products (
    id          uuid PRIMARY KEY,
    seller_id   uuid NOT NULL,
    title       text NOT NULL CHECK (char_length(title) BETWEEN 3 AND 140),
    description text CHECK (char_length(description) <= 5000),
    category    text NOT NULL REFERENCES categories (slug),
    condition   text NOT NULL CHECK (condition IN ('new', 'used', 'refurbished')),
    price_minor bigint NOT NULL CHECK (price_minor > 0 AND price_minor <= 1000000000),
    currency    text NOT NULL DEFAULT 'INR' CHECK (currency = 'INR'),
    stock       int NOT NULL CHECK (stock >= 0),
    status      text NOT NULL CHECK (status IN ('draft', 'active', 'sold_out', 'archived')),
    city        text NOT NULL CHECK (char_length(city) BETWEEN 2 AND 80),
    images      jsonb NOT NULL DEFAULT '[]'
                CHECK (jsonb_typeof(images) = 'array' AND jsonb_array_length(images) <= 10),
    version     int NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    -- 'simple': no stemming, no stop words (listings mix English, Hindi and model numbers);
    -- docs/decisions/0003-search-config.md.
    search      tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('simple', title), 'A') ||
                    setweight(to_tsvector('simple', coalesce(description, '')), 'B')) STORED,
    CONSTRAINT products_active_has_stock CHECK (status <> 'active' OR stock > 0),
    CONSTRAINT products_sold_out_has_none CHECK (status <> 'sold_out' OR stock = 0)
);

-- Full-text search over listed products only (search never shows other statuses).
CREATE INDEX products_search_idx ON products USING gin (search) WHERE status = 'active';
-- sort=newest (the default without q): an ordered scan that stops after limit rows.
CREATE INDEX products_newest_idx ON products (created_at DESC, id DESC) WHERE status = 'active';
-- sort=price_asc/price_desc, and the min_price/max_price range.
CREATE INDEX products_price_idx ON products (price_minor, id) WHERE status = 'active';
-- A category's pages: newest first (the default) and by price.
CREATE INDEX products_category_newest_idx ON products (category, created_at DESC, id DESC)
    WHERE status = 'active';
CREATE INDEX products_category_price_idx ON products (category, price_minor, id)
    WHERE status = 'active';
-- A seller's own products (GET /v1/seller/products, newest first), the seller_id search
-- filter and the active-listings count of the seller profile.
CREATE INDEX products_seller_idx ON products (seller_id, created_at DESC, id DESC);

CREATE TABLE stock_movements (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    product_id  uuid NOT NULL REFERENCES products (id),
    delta       int NOT NULL CHECK (delta <> 0),
    reason      text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 200),
    stock_after int NOT NULL CHECK (stock_after >= 0),
    order_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- GET /v1/products/{id}/stock/movements: newest first, keyset on id.
CREATE INDEX stock_movements_product_idx ON stock_movements (product_id, id DESC);
-- catalog_stock_return gives an order's stock back once: it looks for the order's earlier
-- return of that product.
CREATE INDEX stock_movements_order_idx ON stock_movements (order_id, product_id)
    WHERE order_id IS NOT NULL;

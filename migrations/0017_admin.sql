-- 0017_admin: an admin may take a product down, and a suspended seller's listings are hidden
-- while the suspension lasts (issue 12). A taken-down product is neither
-- listed nor buyable (search and orders see status 'active' only), answers 404 to everyone but
-- its owner and admins, and its owner cannot change it; restore puts back the status it had.
ALTER TABLE products DROP CONSTRAINT products_status_check;
ALTER TABLE products ADD CONSTRAINT products_status_check
    CHECK (status IN ('draft', 'active', 'sold_out', 'archived', 'taken_down', 'suspended'));
ALTER TABLE products
    ADD COLUMN takedown_reason text CHECK (length(takedown_reason) BETWEEN 1 AND 1000),
    -- the status restore puts back (active/sold_out then follow the stock)
    ADD COLUMN status_before_takedown text
        CHECK (status_before_takedown IN ('draft', 'active', 'sold_out')),
    ADD CONSTRAINT products_takedown CHECK ((status = 'taken_down')
        = (status_before_takedown IS NOT NULL AND takedown_reason IS NOT NULL));
-- 'suspended': hidden because its seller is suspended (like taken_down to readers); unsuspend
-- turns back exactly these rows, and nothing else, to active / sold_out following the stock.
ALTER TABLE products
    ADD COLUMN status_before_suspension text
        CHECK (status_before_suspension IN ('active', 'sold_out')),
    ADD CONSTRAINT products_suspension CHECK ((status = 'suspended')
        = (status_before_suspension IS NOT NULL));

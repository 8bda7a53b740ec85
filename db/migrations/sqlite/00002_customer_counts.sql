-- Customers per organization, kept by triggers in the same transaction as each write, so that
-- the total of a page of customers filtered by organization only (or not at all) is a sum of
-- a few rows instead of a count of up to all customers. (PostgreSQL's version keeps a row per
-- writer slot; SQLite has one writer at a time, and slot 0 only.)

-- +goose Up
CREATE TABLE customer_counts (
    organization_id text NOT NULL,
    slot integer NOT NULL,
    n integer NOT NULL,
    PRIMARY KEY (organization_id, slot)
);
INSERT INTO customer_counts (organization_id, slot, n)
    SELECT organization_id, 0, count(*) FROM customers GROUP BY organization_id;

-- +goose StatementBegin
CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_counts (organization_id, slot, n) VALUES (NEW.organization_id, 0, 1)
        ON CONFLICT (organization_id, slot) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers BEGIN
    INSERT INTO customer_counts (organization_id, slot, n) VALUES (OLD.organization_id, 0, -1)
        ON CONFLICT (organization_id, slot) DO UPDATE SET n = n - 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customer_counts_update AFTER UPDATE OF organization_id ON customers
    WHEN OLD.organization_id <> NEW.organization_id BEGIN
    INSERT INTO customer_counts (organization_id, slot, n) VALUES (OLD.organization_id, 0, -1)
        ON CONFLICT (organization_id, slot) DO UPDATE SET n = n - 1;
    INSERT INTO customer_counts (organization_id, slot, n) VALUES (NEW.organization_id, 0, 1)
        ON CONFLICT (organization_id, slot) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER customer_counts_update;
DROP TRIGGER customer_counts_delete;
DROP TRIGGER customer_counts_insert;
DROP TABLE customer_counts;

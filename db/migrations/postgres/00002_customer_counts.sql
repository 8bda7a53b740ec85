-- Customers per organization, kept by the database itself, so that the total of a page of
-- customers filtered by organization only (or not at all), which every dashboard shows,
-- is a sum of a few rows instead of a count of up to all customers. Triggers keep it in the
-- same transaction as each write, by statement (their transition tables hold the rows a
-- statement inserted, deleted or updated). A writer adds to the row of its own slot (its
-- backend's pid modulo 256), and holds that row until it commits: two writers to one
-- organization wait for each other only when their backends share a slot (one pair of
-- backends in 256); a read sums at most 256 rows per organization.

-- +goose Up
-- Writers of the previous release may be running: customers stay still from the count below
-- until the triggers exist (the migration is one transaction), or a customer written in
-- between would never be counted.
LOCK TABLE customers IN SHARE ROW EXCLUSIVE MODE;
CREATE TABLE customer_counts (
    organization_id text NOT NULL,
    slot integer NOT NULL,
    n bigint NOT NULL,
    CONSTRAINT customer_counts_pkey PRIMARY KEY (organization_id, slot)
);
INSERT INTO customer_counts (organization_id, slot, n)
    SELECT organization_id, 0, count(*) FROM customers GROUP BY organization_id;

-- +goose StatementBegin
CREATE FUNCTION customer_counts_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO customer_counts AS c (organization_id, slot, n)
            SELECT organization_id, pg_backend_pid() % 256, count(*) FROM new_rows
            GROUP BY organization_id ORDER BY organization_id
            ON CONFLICT (organization_id, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO customer_counts AS c (organization_id, slot, n)
            SELECT organization_id, pg_backend_pid() % 256, -count(*) FROM old_rows
            GROUP BY organization_id ORDER BY organization_id
            ON CONFLICT (organization_id, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    ELSE -- an update: only customers that changed organization move
        INSERT INTO customer_counts AS c (organization_id, slot, n)
            SELECT organization_id, pg_backend_pid() % 256, sum(d) FROM (
                SELECT organization_id, 1 AS d FROM new_rows
                UNION ALL SELECT organization_id, -1 FROM old_rows) AS moved
            GROUP BY organization_id HAVING sum(d) <> 0 ORDER BY organization_id
            ON CONFLICT (organization_id, slot) DO UPDATE SET n = c.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION customer_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_counts;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER customer_counts_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_add();
CREATE TRIGGER customer_counts_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_add();
CREATE TRIGGER customer_counts_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_add();
CREATE TRIGGER customer_counts_truncate AFTER TRUNCATE ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION customer_counts_clear();

-- +goose Down
DROP TRIGGER customer_counts_truncate ON customers;
DROP TRIGGER customer_counts_update ON customers;
DROP TRIGGER customer_counts_delete ON customers;
DROP TRIGGER customer_counts_insert ON customers;
DROP FUNCTION customer_counts_clear();
DROP FUNCTION customer_counts_add();
DROP TABLE customer_counts;

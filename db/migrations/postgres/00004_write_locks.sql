-- The rows that write transactions lock by key (db/lock.go): one per customer or account key
-- (its 64-bit hash) ever written, made on demand by the first writer of the key. The rows carry
-- nothing but the key, so the table is unlogged: locking a row writes no WAL, and after a
-- crash PostgreSQL empties the table and writers make the rows again.

-- +goose Up
CREATE UNLOGGED TABLE write_locks (
    k bigint NOT NULL,
    CONSTRAINT write_locks_pkey PRIMARY KEY (k)
);

-- +goose Down
DROP TABLE write_locks;

-- One row that /readyz writes (Store.Ready) while the last write failed for a storage fault
-- (a full disk, a read-only file), to tell when the database writes again.

-- +goose Up
CREATE TABLE write_probe (
    id integer PRIMARY KEY,
    n bigint NOT NULL
);

-- +goose Down
DROP TABLE write_probe;

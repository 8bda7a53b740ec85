-- PostgreSQL's 00004 makes the table whose rows write transactions lock by key (db/lock.go).
-- SQLite runs one writer at a time, so there is nothing to lock; the version is recorded so
-- that a number means the same change in both stores.

-- +goose Up

-- +goose Down

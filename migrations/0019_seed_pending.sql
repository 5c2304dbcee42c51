-- What a seed set aside to load its rows fast and has not made again yet: the keys,
-- indexes and foreign keys of the seeded tables, each with the statement that makes it,
-- and the gathering of each table's statistics once they are made.
-- A seed commits its rows first and then makes these on several connections at once,
-- deleting each row in the transaction that makes its object. Rows left here mean a seed
-- stopped after its rows were in; the next seed, reset or start makes what is missing.
CREATE TABLE seed_pending (
    step       INT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('key', 'index', 'foreign key', 'statistics')),
    name       TEXT NOT NULL,
    table_name TEXT NOT NULL,
    -- A foreign key's referenced table: it runs once that table's keys are made.
    referenced TEXT,
    statement  TEXT NOT NULL
);

-- Sync from departments: each feed's cursor (the 12345 hotline's pull among them), the
-- changes a feed brought that could not be applied, and what market supervision's feed
-- says of a business struck off the register.

-- Up to where each source has been read: a department's feed cursor (as the department
-- gives it), or an open311 system's last pull (an RFC 3339 time). Moved in the same
-- transaction as what was read, so that a restart neither loses nor repeats a change.
CREATE TABLE sync_cursors (
    source     TEXT COLLATE "C" PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO sync_cursors (source, cursor, updated_at)
SELECT system_code, to_char(pulled_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), now()
FROM hotline_cursors;
DROP TABLE hotline_cursors;

-- A change a feed brought that the index could not take (no grid for a new element, a
-- kind that is not one, an identifier another element holds), kept for an operator.
CREATE TABLE feed_rejects (
    id              BIGSERIAL PRIMARY KEY,
    department_code TEXT COLLATE "C" NOT NULL,
    source_id       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    change          JSONB NOT NULL,
    at              TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX feed_rejects_department_idx ON feed_rejects (department_code, id);

ALTER TABLE organizations ADD COLUMN deregistered_on DATE;

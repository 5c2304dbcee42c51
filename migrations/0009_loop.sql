-- Closing the loop (接收·交办·督办·反馈): work queues ordered by deadline, the marks that
-- evaluation (考核) reads, and events' own deadlines watched.

-- The next deadline of a summons: reporting in until it has, then handling.
ALTER TABLE summonses
    ADD COLUMN due_at TIMESTAMPTZ GENERATED ALWAYS AS (
        CASE WHEN reported_in_at IS NULL THEN report_in_due_at ELSE handling_due_at END
    ) STORED,
    -- The event's grid, for queues by jurisdiction without a join per row.
    ADD COLUMN event_jurisdiction_code TEXT COLLATE "C",
    -- How often the deadline watcher found it late, and how often it was urged (催办).
    ADD COLUMN overdue_marks INT NOT NULL DEFAULT 0,
    ADD COLUMN urges INT NOT NULL DEFAULT 0;

UPDATE summonses s SET event_jurisdiction_code = e.jurisdiction_code
FROM events e WHERE e.id = s.event_id;
ALTER TABLE summonses ALTER COLUMN event_jurisdiction_code SET NOT NULL;

CREATE INDEX summonses_department_queue_idx ON summonses (department_code, due_at, id);
CREATE INDEX summonses_jurisdiction_queue_idx ON summonses (event_jurisdiction_code, due_at, id);

ALTER TABLE events
    -- When the watcher found the event's own deadline (due_at) passed; set once.
    ADD COLUMN overdue_at TIMESTAMPTZ,
    ADD COLUMN urges INT NOT NULL DEFAULT 0;

-- The level handling an event (its grid's township unless handed elsewhere), for the
-- handling level's queue.
CREATE INDEX events_handling_queue_idx
    ON events ((COALESCE(handling_code, left(jurisdiction_code, 9))), due_at, id);
-- What the event deadline watcher looks at.
CREATE INDEX events_due_watch_idx ON events (due_at)
    WHERE overdue_at IS NULL AND status NOT IN ('RESOLVED', 'CLOSED', 'REJECTED');

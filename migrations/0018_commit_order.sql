-- Timeline cursors in commit order without a city-wide lock. Writers append entries with
-- no position, each holding only the locks of what it changes (the event's row, its
-- idempotency key). After commit, `order_timeline()` numbers every committed entry that
-- has no position yet, in id order, continuing from the last position: one caller at a
-- time, under an advisory lock held for that one statement. A position is only ever
-- given to a committed entry and never below one already given, so "everything after
-- position N" is complete at any moment, as ids were when every writer held one lock.
-- Entries written before this migration keep their ids as positions.

ALTER TABLE timeline DISABLE TRIGGER timeline_append_only;
ALTER TABLE timeline ADD COLUMN position BIGINT;
UPDATE timeline SET position = id;
ALTER TABLE timeline ENABLE TRIGGER timeline_append_only;

CREATE UNIQUE INDEX timeline_position_idx ON timeline (position);
-- What the next ordering numbers.
CREATE INDEX timeline_unordered_idx ON timeline (id) WHERE position IS NULL;
-- A department's signals, in order.
DROP INDEX timeline_department_idx;
CREATE INDEX timeline_department_idx ON timeline (department_code, position);

-- Still append-only: an entry is never deleted, and the one change it ever sees is
-- being given its position.
DROP TRIGGER timeline_append_only ON timeline;
CREATE TRIGGER timeline_never_deleted BEFORE DELETE ON timeline
    FOR EACH STATEMENT EXECUTE FUNCTION timeline_is_append_only();
CREATE FUNCTION timeline_only_ordered() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.position IS NULL AND NEW.position IS NOT NULL
       AND to_jsonb(OLD) - 'position' = to_jsonb(NEW) - 'position' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'timeline entries are never changed or deleted';
END $$;
CREATE TRIGGER timeline_only_ordered BEFORE UPDATE ON timeline
    FOR EACH ROW EXECUTE FUNCTION timeline_only_ordered();

-- Numbers the committed entries that have none, and returns the positions of `wanted`
-- (the entries the caller just committed). Each statement of a volatile function sees
-- what was committed before it started, so the numbering, which starts after the lock is
-- taken, sees everything committed before the call.
CREATE FUNCTION order_timeline(wanted bigint[] DEFAULT '{}')
RETURNS TABLE (entry bigint, entry_position bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(5786302718214915924);
    WITH last AS (SELECT COALESCE(max(position), 0) AS n FROM timeline),
         waiting AS (SELECT id, row_number() OVER (ORDER BY id) AS k
                     FROM timeline WHERE position IS NULL)
    UPDATE timeline t SET position = last.n + waiting.k
    FROM last, waiting WHERE t.id = waiting.id;
    RETURN QUERY SELECT t.id, t.position FROM timeline t WHERE t.id = ANY(wanted);
END $$;

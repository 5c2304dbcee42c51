-- `order_timeline()` without a plan that depends on statistics: the entries waiting for
-- a position are collected from their partial index and updated through the primary key
-- (the join of 0018 could be planned as a scan of the whole timeline when the statistics
-- last saw many entries waiting). A call that finds none waiting returns without taking
-- the lock: each statement sees what was committed before it started, so none waiting
-- means the caller's entries are numbered already.
CREATE OR REPLACE FUNCTION order_timeline(wanted bigint[] DEFAULT '{}')
RETURNS TABLE (entry bigint, entry_position bigint) LANGUAGE plpgsql AS $$
DECLARE
    waiting bigint[];
    last bigint;
BEGIN
    IF EXISTS (SELECT 1 FROM timeline WHERE position IS NULL) THEN
        PERFORM pg_advisory_xact_lock(5786302718214915924);
        SELECT array_agg(id ORDER BY id) INTO waiting FROM timeline WHERE position IS NULL;
        IF waiting IS NOT NULL THEN
            SELECT COALESCE(max(position), 0) INTO last FROM timeline;
            UPDATE timeline t SET position = last + w.k
            FROM unnest(waiting) WITH ORDINALITY AS w(id, k) WHERE t.id = w.id;
        END IF;
    END IF;
    RETURN QUERY SELECT t.id, t.position FROM timeline t WHERE t.id = ANY(wanted);
END $$;

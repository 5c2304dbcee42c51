-- The entries after a position, oldest first: the signal hub's read after every change.
-- As a statement of its own it was planned on every run: PostgreSQL's statistics see
-- few entries past the newest cursor, so each custom plan looked cheaper than the
-- generic one (which guesses a third of the timeline), and the planner never settled on
-- it. Here the one plan there is — the position index, in order, up to the limit — is
-- made once per connection.
CREATE FUNCTION timeline_after(after bigint, max_entries integer)
RETURNS SETOF timeline LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    RETURN QUERY SELECT * FROM timeline t WHERE t.position > after
        ORDER BY t.position LIMIT max_entries;
END $$;

-- A workflow change claims its caller's idempotency key in one round trip: the lock on
-- the key (held to the end of the transaction, so a second call with the same key waits
-- for the first to commit or roll back), then what the key recorded. The lookup must see
-- a first call that committed while this one waited for the lock: a VOLATILE function
-- takes a fresh snapshot for each statement it runs, where one statement holding both
-- the lock and the lookup would read with the snapshot taken before the wait.
CREATE FUNCTION claim_idempotency_key(who text, claimed text)
RETURNS TABLE (operation text, request jsonb, event_id bigint, entity_id bigint,
               first_entry bigint, last_entry bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(who || chr(31) || claimed, 0));
    RETURN QUERY SELECT k.operation, k.request, k.event_id, k.entity_id, k.first_entry, k.last_entry
        FROM idempotency_keys k WHERE k.principal = who AND k.key = claimed;
END $$;

-- What PostGraphile needs to serve the federated query's store part, made in the bench's
-- own database only: the first events of a county, and each person's number in the
-- county police's population register (the key Mesh looks their record up by).
CREATE OR REPLACE FUNCTION events_in(county text) RETURNS SETOF events
    LANGUAGE sql STABLE AS $$
    SELECT * FROM events WHERE left(jurisdiction_code, 6) = county ORDER BY id
$$;
CREATE OR REPLACE FUNCTION persons_household_number(p persons) RETURNS text
    LANGUAGE sql STABLE AS $$
    SELECT source_id FROM entity_links
     WHERE entity_id = p.id AND department_code = left(p.jurisdiction_code, 6) || '-GA'
$$;

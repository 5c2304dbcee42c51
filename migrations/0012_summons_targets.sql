-- A whistle may summon a department, a grid's 法官进网格 team, or one person: exactly
-- one of the three per summons.
ALTER TABLE summonses
    ALTER COLUMN department_code DROP NOT NULL,
    ADD COLUMN team_grid TEXT COLLATE "C" REFERENCES jurisdictions (code),
    ADD COLUMN staff_id BIGINT REFERENCES staff (id),
    ADD CONSTRAINT summonses_one_addressee
        CHECK (num_nonnulls(department_code, team_grid, staff_id) = 1);
CREATE INDEX summonses_staff_queue_idx ON summonses (staff_id, due_at, id) WHERE staff_id IS NOT NULL;
CREATE INDEX summonses_team_queue_idx ON summonses (team_grid, due_at, id) WHERE team_grid IS NOT NULL;

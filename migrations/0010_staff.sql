-- The people who act: 法官进网格 "1+4" teams (a judge, the grid head, a mediator, a
-- residents' representative and an auxiliary police officer for every grid), and
-- department officers; and the person named in charge of an event (交办 to a person).

CREATE TABLE staff (
    id                BIGINT PRIMARY KEY,
    name              TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('JUDGE', 'GRID_HEAD', 'MEDIATOR',
                          'RESIDENT_REP', 'AUXILIARY_POLICE', 'DEPARTMENT_OFFICER')),
    -- Where they work: 东辽县人民法院, 白泉镇人民调解委员会, 白泉镇派出所, ...
    unit              TEXT NOT NULL,
    department_code   TEXT COLLATE "C" REFERENCES departments (code),
    -- The level they belong to: a county (judges), a township, a grid (grid heads).
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    phone             TEXT
);
CREATE INDEX staff_jurisdiction_idx ON staff (jurisdiction_code, id);
CREATE INDEX staff_department_idx ON staff (department_code, id);

-- A grid's team: one member of each role.
CREATE TABLE team_members (
    grid_code         TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code),
    staff_id          BIGINT NOT NULL REFERENCES staff (id),
    PRIMARY KEY (grid_code, staff_id)
);
CREATE INDEX team_members_staff_idx ON team_members (staff_id, grid_code);

ALTER TABLE events ADD COLUMN assignee_id BIGINT REFERENCES staff (id);
CREATE INDEX events_assignee_queue_idx ON events (assignee_id, due_at, id)
    WHERE assignee_id IS NOT NULL;

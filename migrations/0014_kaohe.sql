-- 考核 (evaluation): the facts every figure is computed from, defined once as the views
-- of the `bi` schema. The gateway's figures, its exports and BI tools all read these
-- views, so a rate means the same wherever it is read (docs/KAOHE.md). A read-only role
-- for BI tools sees the rows of one jurisdiction, by row-level security (docs/BI.md).

-- When an event was first accepted (受理), set by the transaction that accepts it.
ALTER TABLE events ADD COLUMN accepted_at TIMESTAMPTZ;
UPDATE events e SET accepted_at = t.at
FROM (SELECT event_id, min(at) AS at FROM timeline
      WHERE kind IN ('ACCEPTED', 'ASSIGNED') GROUP BY event_id) t
WHERE t.event_id = e.id;

-- Extensions (延期) granted on a summons, counted by the transaction that grants one.
ALTER TABLE summonses ADD COLUMN extensions INT NOT NULL DEFAULT 0;
UPDATE summonses s SET extensions = t.granted
FROM (SELECT summons_id, count(*) AS granted FROM timeline
      WHERE kind = 'EXTENSION_DECIDED' AND (detail ->> 'granted')::boolean
      GROUP BY summons_id) t
WHERE t.summons_id = s.id;

-- Figures over a period read events by report time, and their summonses by event.
CREATE INDEX events_resolved_at_idx ON events (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX events_closed_at_idx ON events (closed_at) WHERE closed_at IS NOT NULL;

CREATE SCHEMA bi;

-- The jurisdiction tree and the departments, for names.
CREATE VIEW bi.jurisdictions WITH (security_invoker = true) AS
SELECT code, name, level, kind, parent_code FROM public.jurisdictions;

CREATE VIEW bi.departments WITH (security_invoker = true) AS
SELECT code, name, short_name, kind, county_code FROM public.departments;

-- One row per event, with the flags every event figure counts.
CREATE VIEW bi.events WITH (security_invoker = true) AS
SELECT e.id,
       e.title,
       e.category,
       e.channel,
       e.urgency,
       e.status,
       e.tier,
       e.resolution_tier,
       e.jurisdiction_code,
       left(e.jurisdiction_code, 6) AS county_code,
       left(e.jurisdiction_code, 9) AS township_code,
       left(e.jurisdiction_code, 12) AS community_code,
       COALESCE(e.handling_code, left(e.jurisdiction_code, 9)) AS handling_code,
       e.reported_at,
       e.accepted_at,
       e.due_at,
       e.resolved_at,
       e.closed_at,
       e.overdue_at,
       e.satisfaction,
       e.reworks,
       e.accepted_at IS NOT NULL AS accepted,
       e.resolved_at IS NOT NULL AS resolved,
       -- Resolved at least once: resolved now, or reopened after a resolution.
       (e.resolved_at IS NOT NULL OR e.reworks > 0) AS resolved_once,
       e.closed_at IS NOT NULL AS closed,
       e.overdue_at IS NOT NULL AS overdue,
       e.satisfaction IS NOT NULL AS revisited,
       -- 满意 (5) or 基本满意 (4); 一般 (3) is closed without rework but not satisfied,
       -- and below 3 the revisit reopens the event.
       COALESCE(e.satisfaction >= 4, false) AS satisfied,
       e.reworks > 0 AS reworked,
       (extract(epoch FROM e.resolved_at - e.reported_at) / 3600.0)::float8 AS handling_hours,
       (e.category IN ('NEIGHBOR_DISPUTE', 'FAMILY_DISPUTE', 'LABOR_DISPUTE',
                       'PROPERTY_MANAGEMENT', 'LAND_DISPUTE', 'CONSUMER_RIGHTS')) AS dispute,
       (e.category IN ('NEIGHBOR_DISPUTE', 'FAMILY_DISPUTE', 'LABOR_DISPUTE',
                       'PROPERTY_MANAGEMENT', 'LAND_DISPUTE', 'CONSUMER_RIGHTS')
        AND e.resolved_at IS NOT NULL
        AND COALESCE(e.resolution_tier, e.tier) IN ('WINDOW', 'MEDIATION')) AS resolved_before_litigation,
       (e.category IN ('NEIGHBOR_DISPUTE', 'FAMILY_DISPUTE', 'LABOR_DISPUTE',
                       'PROPERTY_MANAGEMENT', 'LAND_DISPUTE', 'CONSUMER_RIGHTS')
        AND e.resolved_at IS NOT NULL) AS dispute_resolved
FROM public.events e;

-- One row per summons, with the flags every summons figure counts. `report_due`: its
-- report-in deadline has passed or it reported in, and it was not declined.
CREATE VIEW bi.summonses WITH (security_invoker = true) AS
SELECT s.id,
       s.event_id,
       s.whistle_id,
       s.department_code,
       s.team_grid,
       s.staff_id,
       s.status,
       s.event_jurisdiction_code AS jurisdiction_code,
       left(s.event_jurisdiction_code, 6) AS county_code,
       left(s.event_jurisdiction_code, 9) AS township_code,
       s.report_in_due_at,
       s.handling_due_at,
       s.reported_in_at,
       s.done_at,
       s.overdue_marks,
       s.urges,
       s.extensions,
       (s.status <> 'DECLINED'
        AND (s.reported_in_at IS NOT NULL OR s.report_in_due_at <= now())) AS report_due,
       s.reported_in_at IS NOT NULL AS reported_in,
       COALESCE(s.reported_in_at <= s.report_in_due_at, false) AS reported_in_on_time,
       s.status = 'DECLINED' AS declined,
       s.overdue_marks > 0 AS overdue
FROM public.summonses s;

-- Every change, without free text (comments and reasons stay in the gateway).
CREATE VIEW bi.timeline WITH (security_invoker = true) AS
SELECT t.id,
       t.event_id,
       t.summons_id,
       t.kind,
       t.actor_role,
       t.actor_department,
       t.department_code,
       t.jurisdiction_code,
       left(t.jurisdiction_code, 6) AS county_code,
       left(t.jurisdiction_code, 9) AS township_code,
       t.state_before,
       t.state_after,
       t.at
FROM public.timeline t;

-- The figures of each day (Beijing time, by report), township and category: the counts
-- the rates are made of, and the rates, as docs/KAOHE.md defines them.
CREATE VIEW bi.figures_daily WITH (security_invoker = true) AS
WITH ev AS (
    SELECT (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           e.county_code, e.township_code, e.category,
           count(*) AS events,
           count(*) FILTER (WHERE e.accepted) AS accepted,
           count(*) FILTER (WHERE e.resolved) AS resolved,
           count(*) FILTER (WHERE e.resolved_once) AS resolved_once,
           count(*) FILTER (WHERE e.closed) AS closed,
           count(*) FILTER (WHERE e.overdue) AS overdue,
           count(*) FILTER (WHERE e.revisited) AS revisited,
           count(*) FILTER (WHERE e.satisfied) AS satisfied,
           count(*) FILTER (WHERE e.reworked) AS reworked,
           count(*) FILTER (WHERE e.dispute_resolved) AS disputes_resolved,
           count(*) FILTER (WHERE e.resolved_before_litigation) AS resolved_before_litigation,
           sum(e.handling_hours) FILTER (WHERE e.resolved) AS handling_hours
    FROM bi.events e
    GROUP BY 1, 2, 3, 4
), su AS (
    SELECT (e.reported_at AT TIME ZONE 'Asia/Shanghai')::date AS day,
           e.county_code, e.township_code, e.category,
           count(*) AS summonses,
           count(*) FILTER (WHERE s.report_due) AS report_due,
           count(*) FILTER (WHERE s.reported_in) AS reported_in,
           count(*) FILTER (WHERE s.reported_in_on_time) AS reported_in_on_time,
           count(*) FILTER (WHERE s.declined) AS declined,
           count(*) FILTER (WHERE s.overdue) AS overdue_summonses,
           sum(s.extensions) AS extensions
    FROM bi.summonses s
    JOIN bi.events e ON e.id = s.event_id
    GROUP BY 1, 2, 3, 4
)
SELECT ev.day, ev.county_code, ev.township_code, ev.category,
       ev.events, ev.accepted, ev.resolved, ev.resolved_once, ev.closed, ev.overdue,
       ev.revisited, ev.satisfied, ev.reworked, ev.disputes_resolved,
       ev.resolved_before_litigation, ev.handling_hours,
       COALESCE(su.summonses, 0) AS summonses,
       COALESCE(su.report_due, 0) AS report_due,
       COALESCE(su.reported_in, 0) AS reported_in,
       COALESCE(su.reported_in_on_time, 0) AS reported_in_on_time,
       COALESCE(su.declined, 0) AS declined,
       COALESCE(su.overdue_summonses, 0) AS overdue_summonses,
       COALESCE(su.extensions, 0) AS extensions,
       round(su.reported_in_on_time::numeric / NULLIF(su.report_due, 0), 4) AS response_rate,
       round(su.reported_in_on_time::numeric / NULLIF(su.reported_in, 0), 4) AS on_time_report_in_rate,
       round(ev.resolved::numeric / NULLIF(ev.accepted, 0), 4) AS resolution_rate,
       round(ev.satisfied::numeric / NULLIF(ev.revisited, 0), 4) AS satisfaction_rate,
       round(ev.reworked::numeric / NULLIF(ev.resolved_once, 0), 4) AS rework_rate,
       round(ev.overdue::numeric / NULLIF(ev.accepted, 0), 4) AS overdue_rate,
       round(ev.resolved_before_litigation::numeric / NULLIF(ev.disputes_resolved, 0), 4)
           AS share_before_litigation
FROM ev
LEFT JOIN su USING (day, county_code, township_code, category);

-- Which jurisdiction each BI login sees: a role granted `bi_reader` and named here sees
-- the rows of that jurisdiction's subtree; without a row it sees none.
CREATE TABLE bi.scopes (
    role_name         TEXT PRIMARY KEY,
    jurisdiction_code TEXT COLLATE "C" NOT NULL REFERENCES jurisdictions (code)
);

-- The code prefix `role` may see (NULL: nothing). Runs as its owner, so BI roles need no
-- access to bi.scopes itself.
CREATE FUNCTION bi.scope_prefix(role TEXT) RETURNS TEXT
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT j.prefix FROM bi.scopes s JOIN public.jurisdictions j ON j.code = s.jurisdiction_code
    WHERE s.role_name = role
$$;

-- The role BI logins are granted. Roles belong to the cluster, so another database may
-- have created it already (or be creating it right now).
DO $$
BEGIN
    CREATE ROLE bi_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END $$;

REVOKE ALL ON FUNCTION bi.scope_prefix(TEXT) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bi.scope_prefix(TEXT) TO bi_reader;
GRANT USAGE ON SCHEMA bi TO bi_reader;
GRANT SELECT ON bi.jurisdictions, bi.departments, bi.events, bi.summonses, bi.timeline,
    bi.figures_daily TO bi_reader;
-- The views run with the reader's own rights (security_invoker), so that row-level
-- security below applies: the reader needs the columns they read, and no more (no
-- descriptions, comments, reporters or photos).
GRANT SELECT ON jurisdictions, departments TO bi_reader;
GRANT SELECT (id, title, category, channel, urgency, status, tier, resolution_tier,
              jurisdiction_code, handling_code, reported_at, accepted_at, due_at,
              resolved_at, closed_at, overdue_at, satisfaction, reworks)
    ON events TO bi_reader;
GRANT SELECT (id, event_id, whistle_id, department_code, team_grid, staff_id, status,
              event_jurisdiction_code, report_in_due_at, handling_due_at, reported_in_at,
              done_at, overdue_marks, urges, extensions)
    ON summonses TO bi_reader;
GRANT SELECT (id, event_id, summons_id, kind, actor_role, actor_department,
              department_code, jurisdiction_code, state_before, state_after, at)
    ON timeline TO bi_reader;

-- Row-level security: a BI reader sees its jurisdiction's subtree; every other role (the
-- gateway's own, whether or not it owns the tables) sees everything, as before.
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE summonses ENABLE ROW LEVEL SECURITY;
ALTER TABLE timeline ENABLE ROW LEVEL SECURITY;

CREATE POLICY bi_jurisdiction ON events FOR SELECT TO bi_reader
    USING (jurisdiction_code >= (SELECT bi.scope_prefix(current_user::text))
           AND jurisdiction_code < (SELECT bi.scope_prefix(current_user::text)) || '~');
CREATE POLICY bi_jurisdiction ON summonses FOR SELECT TO bi_reader
    USING (event_jurisdiction_code >= (SELECT bi.scope_prefix(current_user::text))
           AND event_jurisdiction_code < (SELECT bi.scope_prefix(current_user::text)) || '~');
CREATE POLICY bi_jurisdiction ON timeline FOR SELECT TO bi_reader
    USING (jurisdiction_code >= (SELECT bi.scope_prefix(current_user::text))
           AND jurisdiction_code < (SELECT bi.scope_prefix(current_user::text)) || '~');

CREATE POLICY gateway_all ON events
    USING (NOT pg_has_role(current_user, 'bi_reader', 'MEMBER'));
CREATE POLICY gateway_all ON summonses
    USING (NOT pg_has_role(current_user, 'bi_reader', 'MEMBER'));
CREATE POLICY gateway_all ON timeline
    USING (NOT pg_has_role(current_user, 'bi_reader', 'MEMBER'));

//! What the simulated departments do when the gateway writes to them: the justice bureau
//! (司法局, `rest`) registers mediation cases, the petitions bureau (信访局, `rest`)
//! letters and visits; the court (人民法院, `sql`) numbers the
//! cases filed into its database and decides applications for judicial confirmation
//! after a while. Each dedupes on the gateway's idempotency key, as a real system must:
//! the same key twice files once and answers the same.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Datelike, Local};
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;

use super::records::{Native, NativeRecord, county_stem, style};
use super::render;

/// How long the court takes to decide an application for judicial confirmation.
pub const COURT_DECISION_DELAY: Duration = Duration::from_secs(2);

/// Words in an agreement a court refuses to confirm: what it settles is unlawful.
const UNLAWFUL: &[&str] = &["高利", "赌债", "违反法律"];

/// Words in a dispute no mediation committee takes: it is a crime.
const CRIMINAL: &[&str] = &["刑事", "故意伤害", "诈骗"];

/// What a rest department files when the gateway writes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filing {
    /// 人民调解案件, by a justice bureau (`POST …/mediations`).
    Mediation,
    /// 信访件, by a petitions bureau (`POST …/petitions`).
    Petition,
}

impl Filing {
    /// What `department` files under `collection`, if anything.
    pub fn of(department: &str, collection: &str) -> Option<Self> {
        match (department.rsplit('-').next()?, collection) {
            ("SF", "mediations") => Some(Self::Mediation),
            ("XF", "petitions") => Some(Self::Petition),
            _ => None,
        }
    }
}

/// What one department filed through the gateway.
#[derive(Default)]
pub struct Registry {
    /// The answer given to each idempotency key.
    answers: HashMap<String, (u16, Value)>,
    /// The records, by id, as the department's lookup serves them.
    pub records: HashMap<String, Value>,
}

impl Registry {
    /// Files a record from the gateway's body, once per key: the HTTP status and body of
    /// the answer (the first one's, for a key seen before).
    pub fn file(
        &mut self,
        filing: Filing,
        department: &str,
        key: &str,
        body: &Value,
    ) -> (u16, Value) {
        if let Some(answer) = self.answers.get(key) {
            return answer.clone();
        }
        let text = |field: &str| body.get(field).and_then(Value::as_str).unwrap_or_default();
        let county = department.split('-').next().unwrap_or_default();
        let serial = self.records.len() + 1;
        let today = Local::now().date_naive();
        let (abbreviation, id, record): (&str, String, NativeRecord) = match filing {
            Filing::Mediation if CRIMINAL.iter().any(|word| text("jbqk").contains(word)) => {
                let refusal = json!({ "code": 422, "msg": "纠纷涉嫌刑事犯罪，不属于人民调解受理范围，请移送公安机关" });
                self.answers.insert(key.to_owned(), (422, refusal.clone()));
                return (422, refusal);
            }
            Filing::Mediation => {
                let id = format!("TJW{county}{serial:05}");
                let case_number = format!(
                    "（{}）{}调字第W{serial:03}号",
                    today.year(),
                    county_stem(county)
                );
                let record = vec![
                    ("tjbh", Native::Text(id.clone())),
                    ("ah", Native::Text(case_number)),
                    ("jflx", Native::Text(text("jflx").to_owned())),
                    ("tjwyh", Native::Text(committee(text("tjwyh")))),
                    ("tjy", Native::Text(text("tjy").to_owned())),
                    ("dsr.sqr", Native::Text(text("sqr").to_owned())),
                    ("slrq", Native::Date(today)),
                    ("tjjg", Native::Text("3".to_owned())),
                    ("dcxy", Native::Text("N".to_owned())),
                    ("jarq", Native::Null),
                ];
                ("SF", id, record)
            }
            Filing::Petition => {
                let id = format!("XFW{county}{:04}{serial:05}", today.year());
                let record = vec![
                    ("xfjbh", Native::Text(id.clone())),
                    // Letters and visits come in through the window: 来访.
                    ("xfxs", Native::Text("2".to_owned())),
                    ("djrq", Native::Date(today)),
                    ("xfsx.bt", Native::Text(text("bt").to_owned())),
                    ("xfsx.fsd", Native::Text(text("fsd").to_owned())),
                    ("xfr.xm", Native::Text(text("xfr").to_owned())),
                    // Registered; not yet passed to a handling unit.
                    ("cbdw", Native::Text("待分办".to_owned())),
                    ("blzt", Native::Text("1".to_owned())),
                    ("cfxf", Native::Int(0)),
                    ("myd", Native::Null),
                ];
                ("XF", id, record)
            }
        };
        let style = style(abbreviation);
        let rendered = render::json_record(&record, style);
        self.records.insert(id, rendered.clone());
        let answer = (200, render::single_answer(rendered, style.envelope));
        self.answers.insert(key.to_owned(), answer.clone());
        answer
    }
}

fn committee(team: &str) -> String {
    if team.is_empty() {
        "人民调解委员会".to_owned()
    } else {
        format!("{team}人民调解委员会")
    }
}

/// What a court's database needs to take filings: its cases numbered as they come in,
/// the gateway's key kept unique, and the applications for judicial confirmation.
pub fn court_schema(county: &str, mysql: bool) -> Vec<String> {
    let stem = format!("吉{}", &county[2..]);
    if mysql {
        return vec![
            "ALTER TABLE ajxx ADD COLUMN IF NOT EXISTS gateway_key VARCHAR(64) UNIQUE".to_owned(),
            "CREATE SEQUENCE IF NOT EXISTS ajxx_filed_seq".to_owned(),
            "DROP TRIGGER IF EXISTS ajxx_number".to_owned(),
            format!(
                "CREATE TRIGGER ajxx_number BEFORE INSERT ON ajxx FOR EACH ROW SET \
                 NEW.ajbs = IF(NEW.ajbs IS NULL, CONCAT('LA{county}', LPAD(NEXTVAL(ajxx_filed_seq), 6, '0')), NEW.ajbs), \
                 NEW.ah = IF(NEW.ah IS NULL, CONCAT('(', YEAR(CURRENT_DATE), '){stem}民初', 9000 + LASTVAL(ajxx_filed_seq), '号'), NEW.ah)"
            ),
            "CREATE SEQUENCE IF NOT EXISTS sfqr_seq".to_owned(),
            "CREATE TABLE IF NOT EXISTS sfqr ( \
               sqbh VARCHAR(32) PRIMARY KEY, tjxy TEXT, tjah VARCHAR(64), \
               zt VARCHAR(2) NOT NULL DEFAULT '0', ah VARCHAR(64), bqly VARCHAR(200), \
               sqsj DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, jdsj DATETIME, \
               gateway_key VARCHAR(64) UNIQUE)"
                .to_owned(),
            "DROP TRIGGER IF EXISTS sfqr_number".to_owned(),
            format!(
                "CREATE TRIGGER sfqr_number BEFORE INSERT ON sfqr FOR EACH ROW SET \
                 NEW.sqbh = IF(NEW.sqbh IS NULL, CONCAT('SQ{county}', LPAD(NEXTVAL(sfqr_seq), 6, '0')), NEW.sqbh)"
            ),
        ];
    }
    vec![
        "ALTER TABLE ajxx ADD COLUMN IF NOT EXISTS gateway_key TEXT UNIQUE".to_owned(),
        "CREATE SEQUENCE IF NOT EXISTS ajxx_filed_seq".to_owned(),
        format!(
            "CREATE OR REPLACE FUNCTION ajxx_number() RETURNS trigger AS $$ \
             BEGIN \
               IF NEW.ajbs IS NULL THEN \
                 NEW.ajbs := 'LA{county}' || lpad(nextval('ajxx_filed_seq')::text, 6, '0'); \
                 NEW.ah := '(' || extract(year FROM CURRENT_DATE) || '){stem}民初' \
                           || (9000 + currval('ajxx_filed_seq')) || '号'; \
               END IF; \
               RETURN NEW; \
             END $$ LANGUAGE plpgsql"
        ),
        "DROP TRIGGER IF EXISTS ajxx_number ON ajxx".to_owned(),
        "CREATE TRIGGER ajxx_number BEFORE INSERT ON ajxx FOR EACH ROW EXECUTE FUNCTION ajxx_number()"
            .to_owned(),
        "CREATE SEQUENCE IF NOT EXISTS sfqr_seq".to_owned(),
        format!(
            "CREATE TABLE IF NOT EXISTS sfqr ( \
               sqbh TEXT PRIMARY KEY DEFAULT 'SQ{county}' || lpad(nextval('sfqr_seq')::text, 6, '0'), \
               tjxy TEXT, tjah TEXT, zt TEXT NOT NULL DEFAULT '0', ah TEXT, bqly TEXT, \
               sqsj TIMESTAMPTZ NOT NULL DEFAULT now(), jdsj TIMESTAMPTZ, \
               gateway_key TEXT UNIQUE)"
        ),
    ]
}

/// One round of the court's decisions: applications older than the delay are confirmed,
/// or refused when the agreement settles something unlawful.
fn decide_statement(county: &str, mysql: bool) -> String {
    let stem = format!("吉{}", &county[2..]);
    let unlawful = UNLAWFUL.join("|");
    let delay = COURT_DECISION_DELAY.as_secs();
    let refusal = "调解协议内容违反法律、行政法规强制性规定，裁定不予确认";
    if mysql {
        return format!(
            "UPDATE sfqr SET \
               ah = IF(tjxy REGEXP '{unlawful}', NULL, \
                       CONCAT('(', YEAR(CURRENT_DATE), '){stem}民特', CAST(SUBSTRING(sqbh, 9) AS UNSIGNED), '号')), \
               bqly = IF(tjxy REGEXP '{unlawful}', '{refusal}', NULL), \
               zt = IF(tjxy REGEXP '{unlawful}', '2', '1'), \
               jdsj = NOW() \
             WHERE zt = '0' AND sqsj < NOW() - INTERVAL {delay} SECOND"
        );
    }
    format!(
        "UPDATE sfqr SET \
           zt = CASE WHEN tjxy ~ '{unlawful}' THEN '2' ELSE '1' END, \
           ah = CASE WHEN tjxy ~ '{unlawful}' THEN NULL \
                ELSE '(' || extract(year FROM CURRENT_DATE) || '){stem}民特' \
                     || substr(sqbh, 9)::int || '号' END, \
           bqly = CASE WHEN tjxy ~ '{unlawful}' THEN '{refusal}' END, \
           jdsj = now() \
         WHERE zt = '0' AND sqsj < now() - make_interval(secs => {delay})"
    )
}

/// Runs the courts' decisions every quarter second, for the process's life.
pub async fn court_clerks(courts: Vec<(String, String)>) {
    let mut rounds = Vec::new();
    for (county, endpoint) in courts {
        let mysql = super::databases::is_mysql(&endpoint);
        let url = super::databases::connectable(&endpoint);
        let statement = decide_statement(&county, mysql);
        let pool = if mysql {
            sqlx::mysql::MySqlPoolOptions::new()
                .max_connections(1)
                .connect_lazy(&url)
                .map(Clerk::MySql)
        } else {
            PgPoolOptions::new()
                .max_connections(1)
                .connect_lazy(&url)
                .map(Clerk::Postgres)
        };
        match pool {
            Ok(pool) => rounds.push((statement, pool)),
            Err(error) => tracing::warn!(%error, %endpoint, "a court's clerk cannot start"),
        }
    }
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    loop {
        ticks.tick().await;
        for (statement, clerk) in &rounds {
            let done = match clerk {
                Clerk::Postgres(pool) => sqlx::query(statement).execute(pool).await.map(|_| ()),
                Clerk::MySql(pool) => sqlx::query(statement).execute(pool).await.map(|_| ()),
            };
            if let Err(error) = done {
                tracing::debug!(%error, "a court's clerk could not decide this round");
            }
        }
    }
}

enum Clerk {
    Postgres(sqlx::PgPool),
    MySql(sqlx::MySqlPool),
}

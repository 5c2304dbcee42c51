//! The `[operations.<name>]` sections: what the gateway may ask a department system to
//! do, and how (see [`crate::operations`]).
//!
//! ```toml
//! [operations.file_mediation]            # rest
//! path = "mediations"
//! id = "data.tjbh"
//! case_number = "data.ah"
//! [operations.file_mediation.body]
//! jbqk = "event.description"
//!
//! [operations.file_case]                 # sql
//! statement = "INSERT INTO ajxx (..., gateway_key) VALUES (..., :idempotency_key) ON CONFLICT (gateway_key) DO NOTHING"
//! answer = "SELECT ajbs, ah FROM ajxx WHERE gateway_key = :idempotency_key"
//! id = "ajbs"
//! params = { ay = "case.cause" }
//! ```

use std::collections::BTreeMap;

use toml::Spanned;

use super::FieldPath;
use super::file::OperationFile;
use super::validate::Problems;
use crate::ConnectorKind;
use crate::operations::{Operation, OperationName, Send, WriteState};

pub(super) fn check(
    problems: &mut Problems<'_>,
    kind: ConnectorKind,
    raw: &BTreeMap<Spanned<String>, OperationFile>,
) -> BTreeMap<OperationName, Operation> {
    let mut operations = BTreeMap::new();
    for (name, operation) in raw {
        let key = format!("operations.{}", name.get_ref());
        let span = Some(name.span());
        let parsed = match name.get_ref().parse::<OperationName>() {
            Ok(parsed) => parsed,
            Err(error) => {
                problems.at(span, key, error.to_string());
                continue;
            }
        };
        let send = match kind {
            ConnectorKind::Rest => rest(problems, &key, parsed, operation),
            ConnectorKind::Sql => sql(problems, &key, parsed, operation),
            ConnectorKind::Open311 => {
                problems.at(span, key, "open311 systems take no operations");
                continue;
            }
        };
        let status = operation.status.as_ref().map(|status| {
            let mut values = BTreeMap::new();
            for (theirs, ours) in &status.get_ref().values {
                match ours.parse::<WriteState>() {
                    Ok(state) => {
                        values.insert(theirs.clone(), state);
                    }
                    Err(reason) => {
                        problems.at(
                            Some(status.span()),
                            format!("{key}.status.values.{theirs}"),
                            reason,
                        );
                    }
                }
            }
            let pending = values.values().any(|state| *state == WriteState::Pending);
            if pending && operation.poll.is_none() {
                problems.at(
                    Some(status.span()),
                    format!("{key}.poll"),
                    "a state maps to PENDING, so `poll` must say how to ask again",
                );
            }
            (FieldPath::parse(&status.get_ref().path), values)
        });
        if let Some(poll) = &operation.poll {
            let needle = if kind == ConnectorKind::Sql {
                ":id"
            } else {
                "{id}"
            };
            if !poll.get_ref().contains(needle) {
                problems.at(
                    Some(poll.span()),
                    format!("{key}.poll"),
                    format!("must contain `{needle}` where the department's id goes"),
                );
            }
        }
        if let Some(send) = send {
            operations.insert(
                parsed,
                Operation {
                    name: parsed,
                    send,
                    id: FieldPath::parse(&operation.id),
                    case_number: operation.case_number.as_deref().map(FieldPath::parse),
                    status,
                    reason: operation.reason.as_deref().map(FieldPath::parse),
                    poll: operation.poll.as_ref().map(|p| p.get_ref().clone()),
                },
            );
        }
    }
    operations
}

/// Each mapped value must be a field of the operation's payload.
fn payload_paths(
    problems: &mut Problems<'_>,
    key: &str,
    name: OperationName,
    map: &BTreeMap<String, Spanned<String>>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (theirs, path) in map {
        if !name.has_field(path.get_ref()) {
            problems.at(
                Some(path.span()),
                format!("{key}.{theirs}"),
                format!(
                    "`{}` is not a field of {name}'s payload (its fields: {})",
                    path.get_ref(),
                    name.fields().join(", ")
                ),
            );
        }
        out.insert(theirs.clone(), path.get_ref().clone());
    }
    out
}

fn rest(
    problems: &mut Problems<'_>,
    key: &str,
    name: OperationName,
    raw: &OperationFile,
) -> Option<Send> {
    misplaced(
        problems,
        key,
        &[
            ("statement", raw.statement.is_some()),
            ("answer", raw.answer.is_some()),
            ("params", !raw.params.is_empty()),
        ],
        "is for sql departments; a rest operation has `method`, `path` and `body`",
    );
    let method = match &raw.method {
        None => reqwest::Method::POST,
        Some(method) => match method.get_ref().to_ascii_uppercase().as_str() {
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            other => {
                problems.at(
                    Some(method.span()),
                    format!("{key}.method"),
                    format!("`{other}` does not write; use POST, PUT or PATCH"),
                );
                return None;
            }
        },
    };
    let Some(path) = &raw.path else {
        problems.at(None, format!("{key}.path"), "missing: where is it sent?");
        return None;
    };
    for placeholder in placeholders(path.get_ref()) {
        if !name.has_field(&placeholder) {
            problems.at(
                Some(path.span()),
                format!("{key}.path"),
                format!("`{{{placeholder}}}` is not a field of {name}'s payload"),
            );
        }
    }
    let body = payload_paths(problems, &format!("{key}.body"), name, &raw.body);
    Some(Send::Rest {
        method,
        path: path.get_ref().clone(),
        body,
    })
}

fn sql(
    problems: &mut Problems<'_>,
    key: &str,
    name: OperationName,
    raw: &OperationFile,
) -> Option<Send> {
    misplaced(
        problems,
        key,
        &[
            ("method", raw.method.is_some()),
            ("path", raw.path.is_some()),
            ("body", !raw.body.is_empty()),
        ],
        "is for rest departments; a sql operation has `statement`, `answer` and `params`",
    );
    let (Some(statement), Some(answer)) = (&raw.statement, &raw.answer) else {
        problems.at(
            None,
            key.to_owned(),
            "a sql operation needs `statement` (what it runs) and `answer` (the SELECT that reads what it filed)",
        );
        return None;
    };
    let params = payload_paths(problems, &format!("{key}.params"), name, &raw.params);
    for (field, text) in [("statement", statement), ("answer", answer)] {
        let names = crate::sql::parameter_names(text.get_ref());
        if !names.iter().any(|n| n == "idempotency_key") {
            problems.at(
                Some(text.span()),
                format!("{key}.{field}"),
                "must use `:idempotency_key`, so that a retried write is done once",
            );
        }
        for unknown in names
            .iter()
            .filter(|n| *n != "idempotency_key" && !params.contains_key(*n))
        {
            problems.at(
                Some(text.span()),
                format!("{key}.{field}"),
                format!("`:{unknown}` is not declared in `params`"),
            );
        }
    }
    Some(Send::Sql {
        statement: statement.get_ref().clone(),
        answer: answer.get_ref().clone(),
        params,
    })
}

/// Reports each of `fields` that is present, which the operation's kind does not take.
fn misplaced(problems: &mut Problems<'_>, key: &str, fields: &[(&str, bool)], reason: &str) {
    for (field, present) in fields {
        if *present {
            problems.at(None, format!("{key}.{field}"), reason);
        }
    }
}

/// The `{name}` placeholders of a path template.
pub(crate) fn placeholders(template: &str) -> Vec<String> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

//! Sending an operation to a department system, once, under its guard (breaker, time
//! limit, concurrency): the caller — the gateway's write outbox — retries, with the same
//! idempotency key, until the department has answered.

use serde_json::{Map, Value};

use crate::department::{Client, Department};
use crate::operations::{Operation, OperationName, Send, WriteAnswer, WriteState, payload_text};
use crate::upstream::UpstreamError;
use crate::{DepartmentError, Failure};

impl Department {
    /// The operation `name` as this department declares it.
    pub fn operation(&self, name: OperationName) -> Option<&Operation> {
        self.config.operations.get(&name)
    }

    /// Asks the department to do `name` with `payload`, keyed by `key` (the department
    /// dedupes on it: the same key twice is done once).
    pub async fn write(
        &self,
        name: OperationName,
        payload: &Value,
        key: &str,
    ) -> Result<WriteAnswer, DepartmentError> {
        let operation = self.declared(name)?;
        // The key is one more field of the payload, for bodies and statements alike.
        let mut payload = payload.clone();
        if let Value::Object(fields) = &mut payload {
            fields.insert("idempotency_key".to_owned(), Value::from(key));
        }
        let payload = &payload;
        let value = |path: &str| payload_text(payload, path);
        let answer = self
            .guard
            .once(|| async {
                match (&operation.send, &self.client, &self.writer) {
                    (Send::Rest { method, path, body }, Client::Rest(rest), _) => {
                        let path = fill_path(path, &value);
                        let mut fields = Map::new();
                        for (theirs, ours) in body {
                            let found = crate::config::FieldPath::parse(ours).find(payload);
                            fields.insert(theirs.clone(), found.cloned().unwrap_or(Value::Null));
                        }
                        let reply = rest
                            .write(method.clone(), &path, &Value::Object(fields), key)
                            .await?;
                        read(operation, reply.refused, &reply.body)
                    }
                    (
                        Send::Sql {
                            statement,
                            answer,
                            params,
                        },
                        _,
                        Some(writer),
                    ) => {
                        let bound = |name: &str| match params.get(name) {
                            Some(path) => value(path),
                            None => value(name),
                        };
                        match writer.write(statement, answer, &bound).await? {
                            Some(row) => read(operation, false, &row),
                            None => Err(UpstreamError::BadResponse(
                                "the answer query found no row for the idempotency key".to_owned(),
                            )),
                        }
                    }
                    _ => Err(UpstreamError::Refused(
                        "the operation does not suit the department's kind".to_owned(),
                    )),
                }
            })
            .await
            .map_err(|error| self.failure(error))?;
        Ok(answer)
    }

    /// Asks again about something the department answered PENDING, by its id.
    pub async fn poll(
        &self,
        name: OperationName,
        id: &str,
    ) -> Result<WriteAnswer, DepartmentError> {
        let operation = self.declared(name)?;
        let Some(poll) = &operation.poll else {
            return Err(self.misconfigured(format!("{name} declares no `poll`")));
        };
        self.guard
            .once(|| async {
                match (&self.client, &self.writer) {
                    (Client::Rest(rest), _) => {
                        let reply = rest.poll(poll, id).await?;
                        read(operation, reply.refused, &reply.body)
                    }
                    (_, Some(writer)) => {
                        let bound = |name: &str| (name == "id").then(|| id.to_owned());
                        match writer.read_one(poll, &bound).await? {
                            Some(row) => read(operation, false, &row),
                            None => Err(UpstreamError::BadResponse(format!(
                                "the poll found nothing under id {id}"
                            ))),
                        }
                    }
                    _ => Err(UpstreamError::Refused(
                        "the operation does not suit the department's kind".to_owned(),
                    )),
                }
            })
            .await
            .map_err(|error| self.failure(error))
    }

    fn declared(&self, name: OperationName) -> Result<&Operation, DepartmentError> {
        self.operation(name).ok_or_else(|| {
            self.misconfigured(format!(
                "its config declares no operation {name} ([operations.{name}])"
            ))
        })
    }

    fn misconfigured(&self, message: String) -> DepartmentError {
        DepartmentError {
            department: self.config.code.clone(),
            failure: Failure::Unavailable,
            message,
        }
    }
}

/// Reads an answer; a refusal (409/422) is REFUSED whatever its body says.
fn read(operation: &Operation, refused: bool, body: &Value) -> Result<WriteAnswer, UpstreamError> {
    if refused {
        let reason = operation
            .reason
            .as_ref()
            .and_then(|path| path.find(body))
            .and_then(Value::as_str)
            .map_or_else(|| body.to_string(), str::to_owned);
        return Ok(WriteAnswer {
            state: WriteState::Refused,
            id: None,
            case_number: None,
            reason: Some(reason),
        });
    }
    operation.read(body).map_err(UpstreamError::BadResponse)
}

/// A path template with its `{field}` placeholders filled from the payload.
fn fill_path(template: &str, value: &(dyn Fn(&str) -> Option<String> + Sync)) -> String {
    let mut path = template.to_owned();
    for name in crate::config::placeholders(template) {
        let filled = value(&name)
            .map(|v| crate::rest::encode(&v))
            .unwrap_or_default();
        path = path.replace(&format!("{{{name}}}"), &filled);
    }
    path
}

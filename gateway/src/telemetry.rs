//! Logs, and traces for an OpenTelemetry collector.
//!
//! Logs are text, or one JSON object per line with `GATEWAY_LOG_FORMAT=json`; each line
//! within a request carries its `request_id`. Spans (the request, each resolver batch,
//! each department call) are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT`
//! or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, and not at all otherwise. The
//! standard `OTEL_*` variables apply: `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the
//! default, or `http/json`), `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_SERVICE_NAME` (default
//! `governance-gateway`).

use crate::say_err;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const SERVICE: &str = "governance-gateway";

/// Exports spans until dropped, then sends what is still buffered.
pub struct Telemetry(Option<SdkTracerProvider>);

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take()
            && let Err(error) = provider.shutdown()
        {
            say_err!("sending the last spans to the collector failed: {error}");
        }
    }
}

/// Whether a collector is configured.
fn exporting(env: impl Fn(&str) -> Option<String>) -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .into_iter()
    .any(|key| env(key).is_some_and(|value| !value.trim().is_empty()))
}

/// Installs the process's logging and, when configured, span export.
pub fn init() -> Result<Telemetry, opentelemetry_otlp::ExporterBuildError> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into());
    let json = std::env::var("GATEWAY_LOG_FORMAT").is_ok_and(|format| format == "json");
    let provider = if exporting(|key| std::env::var(key).ok()) {
        let exporter = SpanExporter::builder().with_http().build()?;
        let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| SERVICE.to_owned());
        Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(Resource::builder().with_service_name(service).build())
                .build(),
        )
    } else {
        None
    };
    let spans = provider
        .as_ref()
        .map(|provider| tracing_opentelemetry::layer().with_tracer(provider.tracer(SERVICE)));
    tracing_subscriber::registry()
        .with(filter)
        .with(json.then(|| tracing_subscriber::fmt::layer().json()))
        .with((!json).then(tracing_subscriber::fmt::layer))
        .with(spans)
        .init();
    if provider.is_some() {
        tracing::info!("exporting spans over OTLP");
    }
    Ok(Telemetry(provider))
}

#[cfg(test)]
mod tests {
    use super::exporting;

    #[test]
    fn spans_are_exported_only_to_a_configured_collector() {
        assert!(!exporting(|_| None));
        assert!(!exporting(|_| Some(" ".to_owned())));
        assert!(exporting(|key| (key == "OTEL_EXPORTER_OTLP_ENDPOINT")
            .then(|| "http://collector:4318".to_owned())));
        assert!(exporting(|key| (key
            == "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .then(|| "http://collector:4318/v1/traces".to_owned())));
    }
}

//! The HTTP front of the simulator. `POST /` carries the AWS calls: the `X-Amz-Target` header names
//! the service and action, the body is the JSON input. Each call is counted, passed through the
//! fault injector, run against the service's state machine and framed as the service's protocol
//! frames it. `/_sim/*` (see `control`) carries the simulator's own knobs.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::faults::Fault;
use super::ids;
use super::state::SimState;
use super::stats::OK;
use super::wire::{AwsError, AwsService, DEFAULT_REGION, RequestContext, region_from_authorization};

/// The simulator's routes: the AWS endpoint at `/` and the control endpoints under `/_sim`.
pub fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/", post(aws_call))
        .merge(super::control::routes())
        .with_state(state)
}

fn respond(service: AwsService, result: Result<Value, AwsError>) -> Response {
    let (status, error_type, body) = match result {
        Ok(body) => (StatusCode::OK, None, body),
        Err(error) => (
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
            Some(error.code),
            service.error_body(&error),
        ),
    };
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(service.content_type()),
    );
    if let Ok(id) = HeaderValue::from_str(&ids::uuid_v4()) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(code) = error_type {
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    response
}

fn parse_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(AwsError::new(
            "SerializationException",
            "The request body must be a JSON object.",
        )),
        Err(e) => Err(AwsError::new(
            "SerializationException",
            format!("The request body is not valid JSON: {e}"),
        )),
    }
}

async fn aws_call(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((service, action)) = AwsService::from_target(target) else {
        return respond(
            AwsService::Ecs,
            Err(AwsError::new(
                "UnknownOperationException",
                format!("Unknown X-Amz-Target {target:?}."),
            )),
        );
    };
    let region = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(region_from_authorization)
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    state
        .stats
        .record_call(service.name(), action, Some(&state.account));
    let decision = state
        .faults
        .decide(&state.account, service.name(), action, state.clock.now());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    let result = match decision.fault {
        Some(Fault::Throttle(message)) => Err(service.throttling(message)),
        Some(Fault::ServerError) => Err(service.server_error("The simulator injected an internal error.")),
        None => parse_body(&body).and_then(|input| {
            let ctx = RequestContext {
                region,
                account: state.account.clone(),
                now: state.clock.now(),
            };
            match service {
                AwsService::Ecs => state.ecs().handle(action, &ctx, input),
                AwsService::AppRunner => state.apprunner().handle(action, &ctx, input),
            }
        }),
    };
    let outcome = match &result {
        Ok(_) => OK,
        Err(error) => error.code,
    };
    state.stats.record_outcome(service.name(), action, outcome);
    tracing::debug!(service = service.name(), action, outcome, "AWS call");
    respond(service, result)
}

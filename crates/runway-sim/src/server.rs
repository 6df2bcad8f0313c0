//! The HTTP front of the simulator. `POST /` carries the AWS calls: the `X-Amz-Target` header names
//! the service and action, the body is the JSON input; a form body without `X-Amz-Target` is an STS
//! query call (`sts`). The caller is resolved from the signature's access key first (`accounts`):
//! expired or unknown session credentials are refused. Each call is then counted, passed through
//! the fault injector, refused if it names another account's resource, run against the service's
//! state machine in the caller's account, normalized when the `normalize` switch says so, and
//! framed as the service's protocol frames it.
//! `/_sim/*` (see `control`) carries the simulator's own knobs.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::accounts::{Authentication, Caller, wall_clock};
use super::faults::Fault;
use super::ids;
use super::state::SimState;
use super::stats::OK;
use super::sts;
use super::wire::{
    AwsError, AwsService, DEFAULT_REGION, RequestContext, access_key_from_authorization,
    region_from_authorization,
};

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

/// Whether a request without `X-Amz-Target` is an awsQuery (STS) call: a form body.
fn is_query(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

async fn aws_call(State(state): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if target.is_empty() && is_query(&headers) {
        return sts_call(&state, &headers, &body);
    }
    let Some((service, action)) = AwsService::from_target(target) else {
        return respond(
            AwsService::Ecs,
            Err(AwsError::new(
                "UnknownOperationException",
                format!("Unknown X-Amz-Target {target:?}."),
            )),
        );
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let region = authorization
        .and_then(region_from_authorization)
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let access_key = authorization.and_then(access_key_from_authorization);
    let authentication = state.accounts.authenticate(access_key.as_deref(), wall_clock());
    state
        .stats
        .record_call(service.name(), action, authentication.account());
    let result = match authentication {
        Authentication::Unrecognized => Err(service.unrecognized_client()),
        Authentication::Expired(_) => Err(service.expired_token()),
        Authentication::Valid(caller) => serve(&state, service, action, &caller, region, &body).await,
    };
    let outcome = match &result {
        Ok(_) => OK,
        Err(error) => error.code,
    };
    state.stats.record_outcome(service.name(), action, outcome);
    tracing::debug!(service = service.name(), action, outcome, "AWS call");
    respond(service, result)
}

/// One authenticated ECS or App Runner call: faults, then the account check, then the service.
async fn serve(
    state: &SimState,
    service: AwsService,
    action: &str,
    caller: &Caller,
    region: String,
    body: &[u8],
) -> Result<Value, AwsError> {
    let decision = state
        .faults
        .decide(&caller.account, service.name(), action, state.clock.now());
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    match decision.fault {
        Some(Fault::Throttle(message)) => return Err(service.throttling(message)),
        Some(Fault::ServerError) => {
            return Err(service.server_error("The simulator injected an internal error."));
        }
        None => {}
    }
    let input = parse_body(body)?;
    if let Some(resource) = service.foreign_resource_of(action, &input, &caller.account) {
        return Err(service.access_denied(&caller.arn, action, resource));
    }
    let ctx = RequestContext {
        region,
        account: caller.account.clone(),
        now: state.clock.now(),
    };
    let mut output = match service {
        AwsService::Ecs => state.ecs().handle(action, &ctx, input),
        AwsService::AppRunner => state.apprunner().handle(action, &ctx, input),
    }?;
    // NB: the normalization switch rewrites what responses report, never what is stored.
    state.faults.normalize(service.name(), &mut output);
    Ok(output)
}

/// One STS call: decode the form, check the action, resolve the caller, run it, answer in XML.
/// NB: STS is not subject to the fault knobs; they are aimed at ECS and App Runner.
fn sts_call(state: &SimState, headers: &HeaderMap, body: &[u8]) -> Response {
    let request_id = ids::uuid_v4();
    let form = match sts::parse_form(body) {
        Ok(form) => form,
        Err(error) => return respond_xml(Err(error), "", &request_id),
    };
    let access_key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(access_key_from_authorization);
    let now = wall_clock();
    let authentication = state.accounts.authenticate(access_key.as_deref(), now);
    let named = form.get("Action").filter(|a| !a.is_empty()).cloned();
    if let Some(action) = &named {
        state.stats.record_call("sts", action, authentication.account());
    }
    let result = sts::action(&form).and_then(|action| {
        let caller = match &authentication {
            Authentication::Valid(caller) => caller,
            Authentication::Expired(_) => return Err(sts::expired_token()),
            Authentication::Unrecognized => return Err(sts::invalid_client_token_id()),
        };
        sts::handle(&state.accounts, caller, action, &form, now)
    });
    if let Some(action) = &named {
        let outcome = match &result {
            Ok(_) => OK,
            Err(error) => error.code,
        };
        state.stats.record_outcome("sts", action, outcome);
        tracing::debug!(service = "sts", action, outcome, "AWS call");
    }
    respond_xml(result, named.as_deref().unwrap_or_default(), &request_id)
}

fn respond_xml(result: Result<String, AwsError>, action: &str, request_id: &str) -> Response {
    let (status, body) = match result {
        Ok(inner) => (StatusCode::OK, sts::response_body(action, &inner, request_id)),
        Err(error) => (
            StatusCode::from_u16(error.status).unwrap_or(StatusCode::BAD_REQUEST),
            sts::error_body(&error, request_id),
        ),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(sts::CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

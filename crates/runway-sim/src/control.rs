//! The simulator's own endpoints, for tests, benchmarks and demos:
//!
//! - `GET /_sim/health`: `{"ok": true}` once the server is up.
//! - `GET /_sim/stats`: call counts by `service:Action`, by `service:Action:outcome`, and by the
//!   caller's account (`by_account`).
//! - `POST /_sim/reset`: clears the counts and the log of issued sessions; `{"state": true}` also
//!   forgets every service and injection and restores the fault settings, roles and STS credential
//!   cap from the flags.
//! - `POST /_sim/advance` `{"seconds": N}`: moves simulated time forward.
//! - `GET|POST /_sim/faults`: reads or replaces the fault settings ([`FaultConfig`]).
//! - `POST /_sim/inject` `{"service", "name", "kind"}`: arms a fault for one service's next
//!   operation ([`Injection`]); `{"service", "role", "kind": "iam_propagation", "seconds"}` makes
//!   that service refuse a role until `seconds` after its first use.
//! - `POST /_sim/iam-propagation` `{"role", "seconds"}`: both services refuse the role until
//!   `seconds` after its first use, as while IAM propagates a new role.
//! - `POST /_sim/push-image` `{"image"}`: an image push; App Runner starts its own deployment of
//!   every running service of that image with automatic deployments on (`{"deployed": [ARN…]}`).
//! - `GET|POST /_sim/roles`: lists the roles STS lets callers assume (`{"roles": [RoleConfig…]}`),
//!   or adds one (`{"arn", "trust": […], "externalId", "maxSessionSeconds"}`; replaces a role with
//!   the same ARN).
//! - `GET|POST /_sim/sts` `{"credentialSeconds": N | null}`: reads or sets the cap on the lifetime
//!   of the credentials STS issues from now on (wall-clock seconds; `null`: as requested).
//! - `GET|POST /_sim/ecs/infrastructure-role` `{"role", "usable": false}`: ECS loses (or regains)
//!   the use of an infrastructure role, as when its policy is deleted: a deleted Express service it
//!   manages stays DRAINING until it is usable again (`GET`: `{"unusableRoles": [ARN…]}`).
//! - `GET|POST /_sim/ecs/newer-model` `{"unknownMembers": true, "statusCode": "UPDATING"}`: ECS
//!   answers with members and enum values newer than the SDKs' models ([`NewerModel`]).
//! - `GET|POST /_sim/apprunner/newer-model` `{"unknownMembers": true, "serviceStatus": "UPDATING"}`:
//!   App Runner answers with members and enum values newer than the SDKs' models
//!   ([`AppRunnerNewerModel`]).
//! - `GET|POST /_sim/ecs/read-after-create` `{"seconds": N}`: DescribeExpressGatewayService does
//!   not find a service for N simulated seconds after its create (0: off).
//! - `GET /_sim/sessions`: the sessions AssumeRole issued since the last reset, oldest first
//!   (`{"sessions": [{"roleArn", "sessionName", "sourceIdentity", "tags": {…}, "callerArn"}…]}`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::accounts::RoleConfig;
use super::apprunner::NewerModel as AppRunnerNewerModel;
use super::ecs::NewerModel;
use super::faults::FaultConfig;
use super::state::{Injection, SimState};

/// The `/_sim` routes.
pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/_sim/health", get(|| async { Json(json!({ "ok": true })) }))
        .route("/_sim/stats", get(stats))
        .route("/_sim/reset", post(reset))
        .route("/_sim/advance", post(advance))
        .route("/_sim/faults", get(get_faults).post(set_faults))
        .route("/_sim/inject", post(inject))
        .route("/_sim/iam-propagation", post(iam_propagation))
        .route("/_sim/push-image", post(push_image))
        .route("/_sim/roles", get(get_roles).post(add_role))
        .route("/_sim/sts", get(get_sts).post(set_sts))
        .route("/_sim/sessions", get(get_sessions))
        .route(
            "/_sim/ecs/infrastructure-role",
            get(get_unusable_roles).post(set_role_usable),
        )
        .route(
            "/_sim/ecs/newer-model",
            get(get_newer_model).post(set_newer_model),
        )
        .route(
            "/_sim/apprunner/newer-model",
            get(get_apprunner_newer_model).post(set_apprunner_newer_model),
        )
        .route(
            "/_sim/ecs/read-after-create",
            get(get_read_lag).post(set_read_lag),
        )
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadLag {
    seconds: f64,
}

async fn get_read_lag(State(state): State<Arc<SimState>>) -> Response {
    Json(json!({ "seconds": state.ecs().read_after_create_lag() })).into_response()
}

async fn set_read_lag(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<ReadLag>(&body) {
        Ok(lag) if lag.seconds.is_finite() && lag.seconds >= 0.0 => {
            state.ecs().set_read_after_create_lag(lag.seconds);
            Json(json!({ "seconds": lag.seconds })).into_response()
        }
        Ok(lag) => bad_request(format!(
            "seconds must be a non-negative number, got {}",
            lag.seconds
        )),
        Err(message) => bad_request(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleUsable {
    role: String,
    usable: bool,
}

async fn get_unusable_roles(State(state): State<Arc<SimState>>) -> Response {
    Json(json!({ "unusableRoles": state.ecs().unusable_roles() })).into_response()
}

async fn set_role_usable(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let input: RoleUsable = match serde_json::from_slice(&body) {
        Ok(input) => input,
        Err(e) => return bad_request(format!("invalid body: {e}")),
    };
    if input.role.is_empty() {
        return bad_request("role must be set");
    }
    let now = state.clock.now();
    state
        .ecs()
        .set_infrastructure_role_usable(&input.role, input.usable, now);
    Json(json!({ "role": input.role, "usable": input.usable })).into_response()
}

async fn get_newer_model(State(state): State<Arc<SimState>>) -> Response {
    Json(state.ecs().newer_model()).into_response()
}

async fn set_newer_model(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<NewerModel>(&body) {
        Ok(model) => {
            state.ecs().set_newer_model(model.clone());
            Json(model).into_response()
        }
        Err(message) => bad_request(message),
    }
}

async fn get_apprunner_newer_model(State(state): State<Arc<SimState>>) -> Response {
    Json(state.apprunner().newer_model()).into_response()
}

async fn set_apprunner_newer_model(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<AppRunnerNewerModel>(&body) {
        Ok(model) => {
            state.apprunner().set_newer_model(model.clone());
            Json(model).into_response()
        }
        Err(message) => bad_request(message),
    }
}

async fn get_sessions(State(state): State<Arc<SimState>>) -> Response {
    Json(json!({ "sessions": state.accounts.issued_sessions() })).into_response()
}

async fn get_roles(State(state): State<Arc<SimState>>) -> Response {
    Json(json!({ "roles": state.accounts.roles() })).into_response()
}

async fn add_role(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let role: RoleConfig = match serde_json::from_slice(&body) {
        Ok(role) => role,
        Err(e) => return bad_request(format!("invalid role: {e}")),
    };
    match state.accounts.add_role(role) {
        Ok(stored) => Json(stored).into_response(),
        Err(message) => bad_request(message),
    }
}

/// The STS knobs, as `GET|POST /_sim/sts` spell them.
#[derive(Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StsSettings {
    credential_seconds: Option<u64>,
}

async fn get_sts(State(state): State<Arc<SimState>>) -> Response {
    Json(StsSettings {
        credential_seconds: state.accounts.credential_seconds(),
    })
    .into_response()
}

async fn set_sts(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let settings: StsSettings = match serde_json::from_slice(&body) {
        Ok(settings) => settings,
        Err(e) => return bad_request(format!("invalid body: {e}")),
    };
    match state.accounts.set_credential_seconds(settings.credential_seconds) {
        Ok(()) => Json(settings).into_response(),
        Err(message) => bad_request(message),
    }
}

#[derive(Deserialize)]
struct IamPropagation {
    role: String,
    seconds: f64,
}

async fn iam_propagation(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let input: IamPropagation = match serde_json::from_slice(&body) {
        Ok(input) => input,
        Err(e) => return bad_request(format!("invalid body: {e}")),
    };
    if input.role.is_empty() || !input.seconds.is_finite() || input.seconds < 0.0 {
        return bad_request("role must be set and seconds non-negative");
    }
    state.ecs().iam.inject(&input.role, input.seconds);
    state.apprunner().iam.inject(&input.role, input.seconds);
    Json(json!({ "role": input.role, "seconds": input.seconds })).into_response()
}

#[derive(Deserialize)]
struct PushImage {
    image: String,
}

async fn push_image(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let input: PushImage = match serde_json::from_slice(&body) {
        Ok(input) => input,
        Err(e) => return bad_request(format!("invalid body: {e}")),
    };
    let now = state.clock.now();
    let deployed = state.apprunner().push_image(&input.image, now);
    Json(json!({ "deployed": deployed })).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

/// Parses a JSON body; an empty body means the type's default.
fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

async fn stats(State(state): State<Arc<SimState>>) -> Response {
    Json(state.stats.snapshot()).into_response()
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    #[serde(default)]
    state: bool,
}

async fn reset(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<ResetRequest>(&body) {
        Ok(request) => {
            state.reset(request.state);
            Json(json!({ "reset": true, "state": request.state })).into_response()
        }
        Err(message) => bad_request(message),
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    seconds: f64,
}

async fn advance(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    match parse::<AdvanceRequest>(&body) {
        Ok(request) if request.seconds.is_finite() && request.seconds >= 0.0 => {
            state.clock.advance(request.seconds);
            Json(json!({
                "offsetSeconds": state.clock.offset(),
                "now": state.clock.now(),
            }))
            .into_response()
        }
        Ok(request) => bad_request(format!(
            "seconds must be a non-negative number, got {}",
            request.seconds
        )),
        Err(message) => bad_request(message),
    }
}

async fn get_faults(State(state): State<Arc<SimState>>) -> Response {
    Json(state.faults.get()).into_response()
}

async fn set_faults(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let config = match parse::<FaultConfig>(&body) {
        Ok(config) => config,
        Err(message) => return bad_request(message),
    };
    if let Err(message) = config.validate() {
        return bad_request(message);
    }
    state.faults.set(config.clone());
    Json(config).into_response()
}

async fn inject(State(state): State<Arc<SimState>>, body: Bytes) -> Response {
    let injection: Injection = match serde_json::from_slice(&body) {
        Ok(injection) => injection,
        Err(e) => return bad_request(format!("invalid injection: {e}")),
    };
    match state.inject(&injection) {
        Ok(()) => Json(injection).into_response(),
        Err(message) => bad_request(message),
    }
}

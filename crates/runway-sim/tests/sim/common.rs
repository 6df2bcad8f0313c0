//! Shared setup: a simulator per test and a tiny raw HTTP client for the `/_sim` endpoints.

use runway_sim::{SimConfig, SimHandle, Simulator};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Rollouts and operations take this long in tests: long enough that a slow machine never
/// finishes one in real time between two calls, so only `advance` moves them on.
pub const STAGE_SECONDS: f64 = 60.0;

/// A simulator with minute-long stages and no faults.
pub async fn start() -> SimHandle {
    Simulator::start(SimConfig {
        ecs_rollout_seconds: STAGE_SECONDS,
        ecs_drain_seconds: STAGE_SECONDS,
        ecs_inactive_seconds: STAGE_SECONDS,
        apprunner_operation_seconds: STAGE_SECONDS,
        apprunner_deleted_seconds: STAGE_SECONDS,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Sends one HTTP/1.1 request and returns the status and the JSON body.
pub async fn http(sim: &SimHandle, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    raw_http(sim, method, path, "", &body).await
}

/// Sends one HTTP/1.1 request with extra header lines (each ending in `\r\n`) and a raw body.
pub async fn raw_http(sim: &SimHandle, method: &str, path: &str, headers: &str, body: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         {headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        sim.addr(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, payload) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let json = serde_json::from_str(payload).unwrap_or(Value::Null);
    (status, json)
}

/// The status string of a `ServiceDeploymentStatus` or similar SDK enum.
pub fn text<T: AsRef<str>>(value: Option<&T>) -> &str {
    value.map(AsRef::as_ref).unwrap_or("<none>")
}

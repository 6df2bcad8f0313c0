//! One AWS call as runway makes it: every attempt waits for a token of the budget, a throttled
//! attempt lowers the bucket's rate, a failed attempt is retried when `retry` says so, and the
//! outcome is counted and turned into [`Error::Aws`].
//!
//! NB: runway retries here, and the ECS and App Runner clients are built with the SDK's retries
//! off (`super::AwsClients::clients`). The SDK's hooks cannot make a retry wait for a token:
//! interceptor hooks (`Intercept::read_before_attempt` and the rest) are synchronous, and the
//! client's `RetryStrategy`, which chooses the delay before a retry, cannot be replaced through the
//! generated config (its `runtime_plugin` is crate-private). A token taken without waiting would
//! only let retries overdraw the bucket. Retrying here gives every attempt a token at the caller's
//! priority, and sees every throttled attempt, not only the last.

use std::future::Future;
use std::time::Instant;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::RegionClients;
use super::error::{classify, request_id};
use super::retry::{FailedAttempt, retry_after};
use crate::error::{AwsErrorKind, AwsFailure};
use crate::{Error, Result};

impl RegionClients {
    /// Makes one AWS call: `send` builds and sends one attempt (the SDK sends nothing before its
    /// future is polled), each attempt after a budget token. Counts the outcome and turns a
    /// failure into [`Error::Aws`].
    pub async fn call<T, E, F, Fut>(
        &self,
        service: &'static str,
        operation: &'static str,
        target: &str,
        send: F,
    ) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = std::result::Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let scope = self.budget_scope();
        let start = Instant::now();
        let mut number = 1;
        loop {
            self.budget.take(&scope, service, operation).await;
            let err = match send().await {
                Ok(v) => {
                    self.metrics.aws_call(service, operation, "ok");
                    return Ok(v);
                }
                Err(err) => err,
            };
            let (kind, code, message) = classify(&err);
            let request_id = request_id(&err);
            if kind == AwsErrorKind::Throttling {
                self.budget.throttled(&scope, service, operation);
            }
            let failed = FailedAttempt {
                number,
                kind,
                code: &code,
                elapsed: start.elapsed(),
            };
            if let Some(backoff) = retry_after(&self.retry, &failed, rand::random()) {
                tracing::debug!(service, operation, %code, attempt = number, ?backoff, "retrying an AWS call");
                tokio::time::sleep(backoff).await;
                number += 1;
                continue;
            }
            self.metrics.aws_call(service, operation, kind.label());
            return Err(Error::Aws(Box::new(AwsFailure {
                service,
                operation,
                region: self.region.clone(),
                target: target.to_string(),
                kind,
                code,
                message,
                request_id,
            })));
        }
    }
}

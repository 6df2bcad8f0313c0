//! When runway retries a failed AWS attempt, and after how long ([`retry_after`], pure): as the
//! SDK's standard mode does (3 attempts, full-jitter exponential backoff), within the operation
//! timeout. `call` acts on it.

use std::time::Duration;

use crate::error::AwsErrorKind;

/// How runway retries a failed attempt; the defaults are the SDK's standard mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The longest backoff before the second attempt; it doubles per attempt.
    pub initial_backoff: Duration,
    /// The longest backoff before any attempt.
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt.
    pub operation_timeout: Duration,
}

impl RetryPolicy {
    /// The SDK's standard retries (3 attempts, backoff up to 1 s doubling to at most 20 s) within
    /// `operation_timeout`.
    pub fn standard(operation_timeout: Duration) -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(20),
            operation_timeout,
        }
    }
}

/// A failed attempt.
#[derive(Clone, Copy, Debug)]
pub struct FailedAttempt<'a> {
    /// Which attempt failed, from 1.
    pub number: u32,
    /// How it failed.
    pub kind: AwsErrorKind,
    /// AWS's error code, or runway's name for a failure before AWS answered.
    pub code: &'a str,
    /// Time since the first attempt started.
    pub elapsed: Duration,
}

/// How long to wait before the next attempt, or `None` when the call fails now: the failure is not
/// retryable, the attempts are spent, or the backoff would end past the operation timeout.
/// Throttling and transient failures are retried, as by the SDK, except a failure to load
/// credentials (each retry would ask STS again; the reconcile's own backoff retries it). `jitter`
/// (0 to 1) scales the backoff: "full jitter".
pub fn retry_after(policy: &RetryPolicy, failed: &FailedAttempt<'_>, jitter: f64) -> Option<Duration> {
    let retryable = match failed.kind {
        AwsErrorKind::Throttling => true,
        AwsErrorKind::Transient => failed.code != "CredentialsNotLoaded",
        _ => false,
    };
    if !retryable || failed.number >= policy.max_attempts {
        return None;
    }
    let doubling = 2f64.powi(i32::try_from(failed.number - 1).unwrap_or(i32::MAX));
    let ceiling = (policy.initial_backoff.as_secs_f64() * doubling).min(policy.max_backoff.as_secs_f64());
    let backoff = Duration::from_secs_f64(ceiling * jitter.clamp(0.0, 1.0));
    (failed.elapsed + backoff < policy.operation_timeout).then_some(backoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(number: u32, kind: AwsErrorKind, code: &str) -> FailedAttempt<'_> {
        FailedAttempt {
            number,
            kind,
            code,
            elapsed: Duration::from_millis(300),
        }
    }

    #[test]
    fn throttling_and_transient_failures_are_retried_with_doubling_jittered_backoff() {
        let policy = RetryPolicy::standard(Duration::from_secs(30));
        let throttled = failed(1, AwsErrorKind::Throttling, "ThrottlingException");
        assert_eq!(
            retry_after(&policy, &throttled, 1.0),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_after(&policy, &throttled, 0.25),
            Some(Duration::from_millis(250))
        );
        let second = failed(2, AwsErrorKind::Transient, "ServerException");
        assert_eq!(retry_after(&policy, &second, 1.0), Some(Duration::from_secs(2)));
        // Three attempts in all.
        let third = failed(3, AwsErrorKind::Throttling, "ThrottlingException");
        assert_eq!(retry_after(&policy, &third, 1.0), None);
        let many = RetryPolicy {
            max_attempts: 10,
            ..policy
        };
        let ninth = FailedAttempt {
            elapsed: Duration::ZERO,
            ..failed(9, AwsErrorKind::Transient, "Timeout")
        };
        assert_eq!(retry_after(&many, &ninth, 1.0), Some(Duration::from_secs(20)));
    }

    #[test]
    fn other_failures_and_failed_credentials_are_not_retried_and_no_retry_passes_the_timeout() {
        let policy = RetryPolicy::standard(Duration::from_secs(5));
        for (kind, code) in [
            (AwsErrorKind::Terminal, "ValidationException"),
            (AwsErrorKind::NotFound, "ServiceNotFoundException"),
            (AwsErrorKind::InvalidState, "InvalidStateException"),
            (AwsErrorKind::IamPropagation, "AssumeRoleDenied"),
            (AwsErrorKind::Transient, "CredentialsNotLoaded"),
        ] {
            assert_eq!(retry_after(&policy, &failed(1, kind, code), 1.0), None, "{code}");
        }
        let late = FailedAttempt {
            elapsed: Duration::from_millis(4500),
            ..failed(1, AwsErrorKind::Throttling, "ThrottlingException")
        };
        assert_eq!(retry_after(&policy, &late, 1.0), None);
        assert_eq!(retry_after(&policy, &late, 0.4), Some(Duration::from_millis(400)));
    }
}

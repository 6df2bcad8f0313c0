//! When a deletion that AWS has not finished is worth telling someone about. A deleted Express
//! service is DRAINING until ECS has removed its tasks and the infrastructure it made (load balancer
//! rules, target groups, security groups, scaling policies). That takes minutes; when ECS can no
//! longer use the service's infrastructure role (its policy was deleted first), it never ends
//! (docs/aws-behaviour.md E34). runway keeps the finalizer either way, and after a while says so.

use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

/// How many resync intervals a deletion may go on before runway reports it as stuck: with the
/// default 10-minute resync, 20 minutes, Terraform's delete timeout for Express services.
pub const STUCK_AFTER_RESYNCS: u32 = 2;

/// How long the deletion requested at `requested` has been going on at `now`, when that is longer
/// than [`STUCK_AFTER_RESYNCS`] resync intervals; `None` while it is not.
pub fn stuck_for(requested: Timestamp, now: Timestamp, resync: Duration) -> Option<Duration> {
    let elapsed = now.duration_since(requested).unsigned_abs();
    (elapsed >= resync * STUCK_AFTER_RESYNCS).then_some(elapsed)
}

/// The message for a deletion that has been going on for `elapsed`, with the kind's `hint` about
/// the likely cause.
pub fn stuck_message(service: &str, arn: &str, elapsed: Duration, hint: &str) -> String {
    let minutes = elapsed.as_secs() / 60;
    let seconds = elapsed.as_secs() % 60;
    format!(
        "AWS is still deleting {service} {arn} {minutes} min {seconds} s after this resource was \
         deleted. {hint}. runway keeps the finalizer and keeps checking."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deletion_is_stuck_after_two_resyncs_and_the_message_carries_the_hint() {
        let requested: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");
        let resync = Duration::from_secs(600);
        let at = |s: i64| requested + jiff_seconds(s);
        assert_eq!(stuck_for(requested, at(60), resync), None);
        assert_eq!(stuck_for(requested, at(1199), resync), None);
        assert_eq!(
            stuck_for(requested, at(1200), resync),
            Some(Duration::from_secs(1200))
        );
        let message = stuck_message(
            "Express service",
            "arn:svc",
            Duration::from_secs(1265),
            "check role arn:role",
        );
        assert!(message.contains("arn:svc 21 min 5 s"), "{message}");
        assert!(message.contains("check role arn:role"), "{message}");
    }

    fn jiff_seconds(s: i64) -> k8s_openapi::jiff::SignedDuration {
        k8s_openapi::jiff::SignedDuration::from_secs(s)
    }
}

//! Services an `ExpressService` must never manage: a classic ECS service (one made with
//! CreateService, `resourceManagementType: CUSTOMER`) that has the name, or the ARN, the resource
//! points at. The Express calls do not work on it, and updating or deleting it would break
//! whatever runs it (docs/aws-behaviour.md E33).

use crate::plan::Refusal;

/// Why the service is not runway's to manage, or `None` when it is an Express service
/// (`resourceManagementType: ECS`) or AWS did not say. `what` names the service in the message and
/// `remedy` says what to change.
pub fn not_express(management_type: Option<&str>, what: &str, remedy: &str) -> Option<Refusal> {
    let kind = management_type.filter(|t| *t != "ECS")?;
    Some(Refusal {
        reason: "ServiceNotExpress",
        message: format!(
            "{what} is not an Express service (its resourceManagementType is {kind}, not ECS): a classic \
             ECS service, which runway never adopts, updates or deletes; {remedy}"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_services_ecs_manages_as_express_are_runways_to_manage() {
        assert_eq!(not_express(Some("ECS"), "web", "x"), None);
        // NB: an answer without the member (older services, a partition that omits it) is left to
        // the owner tag and the Express calls, which refuse a classic service themselves.
        assert_eq!(not_express(None, "web", "x"), None);
        let classic =
            not_express(Some("CUSTOMER"), "service web in cluster default", "rename it").expect("refused");
        assert_eq!(classic.reason, "ServiceNotExpress");
        assert!(classic.message.contains("service web in cluster default"));
        assert!(classic.message.contains("CUSTOMER"));
        assert!(classic.message.ends_with("rename it"));
        // A value AWS adds later is not assumed to be Express either.
        assert!(not_express(Some("SOMETHING_NEW"), "web", "x").is_some());
    }
}

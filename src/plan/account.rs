//! Which AWS account, and which identity, a resource's calls use.
//!
//! The platform team maps a namespace to an account with Namespace annotations:
//! `runway.dev/aws-role-arn` names the IAM role runway assumes (STS AssumeRole) for every resource in
//! the namespace, and `runway.dev/aws-external-id` the External ID the role's trust policy may ask
//! for. A namespace without the role annotation uses the controller's own identity. Tenants cannot
//! choose a role in their resources' spec: anyone who can create a resource could then act with any
//! role the controller can assume.
//!
//! Data flow: the Namespace's annotations and the controller's allow-list go to [`decide`]; the
//! account it names (or the controller's own) and the service ARN in the resource go to
//! [`mismatch`], which refuses to operate on a service of another account.

use std::collections::BTreeMap;

use super::arn::Arn;

/// Namespace annotation: the ARN of the IAM role runway assumes for the namespace's resources.
pub const ROLE_ANNOTATION: &str = "runway.dev/aws-role-arn";
/// Namespace annotation: the External ID to pass when assuming that role.
pub const EXTERNAL_ID_ANNOTATION: &str = "runway.dev/aws-external-id";

/// An IAM role to assume.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssumedRole {
    /// The role's ARN.
    pub arn: String,
    /// The External ID its trust policy asks for, if any.
    pub external_id: Option<String>,
}

/// The identity a namespace's resources use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The controller's own credentials (the SDK default chain).
    Own,
    /// A role in `account`, assumed with the controller's own credentials.
    Role {
        /// The role.
        role: AssumedRole,
        /// The role's account, from its ARN.
        account: String,
    },
    /// runway must not act for this namespace; the resource stalls with this reason and message.
    Refused {
        /// PascalCase reason.
        reason: &'static str,
        /// Human-readable detail.
        message: String,
    },
}

/// The account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`), when it has a
/// 12-digit one.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    Arn::parse(arn)?.account_id()
}

/// Whether `arn` is an IAM role ARN (`arn:<partition>:iam::<account>:role/<path/>name`) that STS
/// accepts: 20 to 2048 characters, a role name of 1 to 64 `[\w+=,.@-]` characters.
fn valid_role_arn(arn: &str) -> bool {
    let Some(parsed) = Arn::parse(arn) else {
        return false;
    };
    let name = parsed
        .resource
        .strip_prefix("role/")
        .and_then(|r| r.rsplit('/').next());
    (20..=2048).contains(&arn.len())
        && parsed.partition.starts_with("aws")
        && parsed.service == "iam"
        && parsed.region.is_empty()
        && parsed.account_id().is_some()
        && name.is_some_and(|n| {
            (1..=64).contains(&n.len())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
        })
}

/// Whether `id` is an External ID STS accepts: 2 to 1224 characters of `[\w+=,.@:/-]`.
fn valid_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c))
}

/// The identity for a namespace with these annotations. `allowed` is the controller's allow-list
/// of account IDs for assumed roles; empty allows any account.
pub fn decide(namespace: &str, annotations: &BTreeMap<String, String>, allowed: &[String]) -> Decision {
    let external_id = annotations
        .get(EXTERNAL_ID_ANNOTATION)
        .map(|s| s.trim().to_string());
    let Some(arn) = annotations.get(ROLE_ANNOTATION).map(|s| s.trim()) else {
        if external_id.is_some() {
            return Decision::Refused {
                reason: "InvalidAccountAnnotation",
                message: format!(
                    "namespace {namespace} has {EXTERNAL_ID_ANNOTATION} but no {ROLE_ANNOTATION}; an \
                     External ID only goes with a role to assume"
                ),
            };
        }
        return Decision::Own;
    };
    if !valid_role_arn(arn) {
        return Decision::Refused {
            reason: "InvalidAccountAnnotation",
            message: format!(
                "namespace {namespace}: {ROLE_ANNOTATION} {arn:?} is not an IAM role ARN \
                 (arn:aws:iam::<12-digit account>:role/<name>)"
            ),
        };
    }
    if let Some(id) = external_id.as_deref().filter(|id| !valid_external_id(id)) {
        return Decision::Refused {
            reason: "InvalidAccountAnnotation",
            message: format!(
                "namespace {namespace}: {EXTERNAL_ID_ANNOTATION} must be 2 to 1224 characters of \
                 letters, digits and _+=,.@:/- (got {} characters)",
                id.len()
            ),
        };
    }
    let account = account_of_arn(arn).unwrap_or_default().to_string();
    if !allowed.is_empty() && !allowed.contains(&account) {
        return Decision::Refused {
            reason: "AccountNotAllowed",
            message: format!(
                "namespace {namespace} maps to account {account} ({arn}), which is not in the \
                 controller's allowed accounts ({}); a platform administrator adds it to the chart's \
                 multiAccount.allowedAccountIds",
                allowed.join(", ")
            ),
        };
    }
    Decision::Role {
        role: AssumedRole {
            arn: arn.to_string(),
            external_id,
        },
        account,
    }
}

/// Why runway must not operate on the service `arn` names, when it lives in another account than
/// `expected` (the account the namespace maps to): a namespace moved to another account, or an
/// adopted ARN of the wrong account. Creating a second service there would split the resource
/// between two accounts, so the resource stalls instead.
pub fn mismatch(arn: Option<&str>, expected: &str, namespace: &str) -> Option<String> {
    let arn = arn?;
    let account = account_of_arn(arn)?;
    (account != expected).then(|| {
        format!(
            "the service {arn} is in account {account}, but namespace {namespace} maps to account \
             {expected}; runway does not operate on a service of another account and does not create \
             a second one. Map the namespace back to {account}, or see docs/multi-account.md \
             (moving a namespace between accounts)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const ROLE: &str = "arn:aws:iam::210987654321:role/runway-team-a";

    #[test]
    fn a_namespace_without_the_annotation_uses_the_controllers_own_identity() {
        assert_eq!(decide("a", &annotations(&[]), &[]), Decision::Own);
        assert_eq!(
            decide("a", &annotations(&[("other", "x")]), &["1".into()]),
            Decision::Own
        );
    }

    #[test]
    fn a_role_annotation_names_the_role_and_its_account() {
        let d = decide(
            "a",
            &annotations(&[(ROLE_ANNOTATION, ROLE), (EXTERNAL_ID_ANNOTATION, "team-a-7f3")]),
            &[],
        );
        assert_eq!(
            d,
            Decision::Role {
                role: AssumedRole {
                    arn: ROLE.into(),
                    external_id: Some("team-a-7f3".into())
                },
                account: "210987654321".into()
            }
        );
        let with_path = "arn:aws-us-gov:iam::210987654321:role/platform/runway";
        assert!(matches!(
            decide("a", &annotations(&[(ROLE_ANNOTATION, with_path)]), &[]),
            Decision::Role { .. }
        ));
    }

    #[test]
    fn an_account_outside_the_allow_list_is_refused() {
        let d = decide(
            "a",
            &annotations(&[(ROLE_ANNOTATION, ROLE)]),
            &["123456789012".into()],
        );
        let Decision::Refused { reason, message } = d else {
            panic!("refused: {d:?}")
        };
        assert_eq!(reason, "AccountNotAllowed");
        assert!(message.contains("210987654321"), "{message}");
        assert!(matches!(
            decide(
                "a",
                &annotations(&[(ROLE_ANNOTATION, ROLE)]),
                &["123456789012".into(), "210987654321".into()]
            ),
            Decision::Role { .. }
        ));
    }

    #[test]
    fn malformed_annotations_are_refused_with_what_is_wrong() {
        for bad in [
            "runway-team-a",
            "arn:aws:iam::2109876543:role/x",
            "arn:aws:iam::210987654321:user/x",
            "arn:aws:sts::210987654321:role/x",
            "arn:aws:iam::210987654321:role/has space",
        ] {
            let d = decide("a", &annotations(&[(ROLE_ANNOTATION, bad)]), &[]);
            assert!(
                matches!(
                    d,
                    Decision::Refused {
                        reason: "InvalidAccountAnnotation",
                        ..
                    }
                ),
                "{bad}: {d:?}"
            );
        }
        let d = decide(
            "a",
            &annotations(&[(ROLE_ANNOTATION, ROLE), (EXTERNAL_ID_ANNOTATION, "x")]),
            &[],
        );
        assert!(matches!(d, Decision::Refused { .. }), "{d:?}");
        let d = decide("a", &annotations(&[(EXTERNAL_ID_ANNOTATION, "abc")]), &[]);
        assert!(matches!(d, Decision::Refused { .. }), "{d:?}");
    }

    #[test]
    fn a_service_of_another_account_is_a_mismatch() {
        let arn = "arn:aws:ecs:us-east-1:123456789012:service/default/web";
        assert_eq!(account_of_arn(arn), Some("123456789012"));
        assert!(mismatch(Some(arn), "123456789012", "a").is_none());
        assert!(mismatch(None, "123456789012", "a").is_none());
        let message = mismatch(Some(arn), "210987654321", "a").expect("mismatch");
        assert!(
            message.contains("123456789012") && message.contains("210987654321"),
            "{message}"
        );
        assert_eq!(account_of_arn("arn:aws:ecs:us-east-1:abc:service/x"), None);
    }
}

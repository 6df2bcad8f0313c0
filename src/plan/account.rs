//! Which AWS account, and which identity, a resource's calls use.
//!
//! The platform team maps a namespace to an account with Namespace annotations:
//! `runway.dev/aws-role-arn` names the IAM role runway assumes (STS AssumeRole) for every resource in
//! the namespace, and `runway.dev/aws-external-id` the External ID the role's trust policy may ask
//! for. A namespace without the role annotation uses the controller's own identity, unless the
//! controller's [`Tenancy`] forbids it: with an allow-list, the own account must be in it (and known);
//! with `require_role`, every namespace must name a role. Tenants cannot choose a role in their
//! resources' spec: anyone who can create a resource could then act with any role the controller
//! can assume.
//!
//! Data flow: the Namespace's annotations, the controller's [`Tenancy`] and its own account (when
//! [`needs_own_account`] says it matters) go to [`decide`]; the account it names and the service
//! ARN in the resource go to [`mismatch`], which refuses to operate on a service of another account.
//! A role is assumed per namespace, in a session named by [`session_name`] (and tagged by
//! [`session_tags`] when the controller is asked to), so that the role's trust policy can admit one
//! namespace only.

use std::collections::BTreeMap;

use super::arn::Arn;

/// Namespace annotation: the ARN of the IAM role runway assumes for the namespace's resources.
pub const ROLE_ANNOTATION: &str = "runway.dev/aws-role-arn";
/// Namespace annotation: the External ID to pass when assuming that role.
pub const EXTERNAL_ID_ANNOTATION: &str = "runway.dev/aws-external-id";

/// An IAM role to assume for one namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssumedRole {
    /// The role's ARN.
    pub arn: String,
    /// The External ID its trust policy asks for, if any.
    pub external_id: Option<String>,
    /// The namespace the role is assumed for. It names the session ([`session_name`]), so each
    /// namespace has sessions of its own, which the role's trust policy can tell apart.
    pub namespace: String,
}

/// The controller's rules for mapping namespaces to accounts (`runway run --allowed-account-ids`
/// and `--require-namespace-role`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tenancy {
    /// Account IDs runway may act in, through a namespace's role or its own identity; empty allows
    /// any.
    pub allowed: Vec<String>,
    /// Whether every namespace must name a role: then none uses the controller's own identity.
    pub require_role: bool,
}

/// The identity a namespace's resources use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The controller's own credentials (the SDK default chain).
    Own {
        /// The controller's own account, when it is known (it can be unknown only without an
        /// allow-list).
        account: Option<String>,
    },
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

/// A 12-digit AWS account ID, as `--allowed-account-ids` takes it (surrounding spaces trimmed).
pub fn parse_account_id(value: &str) -> Result<String, String> {
    let id = value.trim();
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_string())
    } else {
        Err(format!("{value:?} is not a 12-digit AWS account ID"))
    }
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

/// Whether [`decide`] needs the controller's own account for a namespace with these annotations:
/// only when the namespace names no role and may use the controller's own identity.
pub fn needs_own_account(annotations: &BTreeMap<String, String>, tenancy: &Tenancy) -> bool {
    !tenancy.require_role && !annotations.contains_key(ROLE_ANNOTATION)
}

/// The identity for a namespace with these annotations, under the controller's `tenancy`. `own`
/// is the controller's own account (STS GetCallerIdentity), `None` when it could not be learned or
/// was not asked for (see [`needs_own_account`]).
pub fn decide(
    namespace: &str,
    annotations: &BTreeMap<String, String>,
    tenancy: &Tenancy,
    own: Option<&str>,
) -> Decision {
    let external_id = annotations
        .get(EXTERNAL_ID_ANNOTATION)
        .map(|s| s.trim().to_string());
    match annotations.get(ROLE_ANNOTATION).map(|s| s.trim()) {
        None if external_id.is_some() => Decision::Refused {
            reason: "InvalidAccountAnnotation",
            message: format!(
                "namespace {namespace} has {EXTERNAL_ID_ANNOTATION} but no {ROLE_ANNOTATION}; an \
                 External ID only goes with a role to assume"
            ),
        },
        None => decide_own(namespace, tenancy, own),
        Some(arn) => decide_role(namespace, arn, external_id, &tenancy.allowed),
    }
}

/// The decision for a namespace without a role: the controller's own identity, if `tenancy`
/// allows it.
fn decide_own(namespace: &str, tenancy: &Tenancy, own: Option<&str>) -> Decision {
    if tenancy.require_role {
        return Decision::Refused {
            reason: "NamespaceRoleRequired",
            message: format!(
                "namespace {namespace} has no {ROLE_ANNOTATION}, and this controller requires one \
                 for every namespace (--require-namespace-role, the chart's \
                 multiAccount.requireNamespaceRole); a platform administrator annotates the \
                 namespace with the role of its account"
            ),
        };
    }
    let allowed = &tenancy.allowed;
    if allowed.is_empty() {
        return Decision::Own {
            account: own.map(str::to_string),
        };
    }
    let Some(own) = own else {
        return Decision::Refused {
            reason: "OwnAccountUnknown",
            message: format!(
                "namespace {namespace} has no {ROLE_ANNOTATION}, so it would use the controller's own \
                 identity, but runway cannot learn that identity's account (STS GetCallerIdentity \
                 failed; it asks again every 10 minutes) to check it against the allowed accounts \
                 ({}); make STS reachable from the controller, or annotate the namespace with a role",
                allowed.join(", ")
            ),
        };
    };
    if !allowed.iter().any(|a| a == own) {
        return Decision::Refused {
            reason: "AccountNotAllowed",
            message: format!(
                "namespace {namespace} has no {ROLE_ANNOTATION}, so it would use the controller's own \
                 account {own}, which is not in the controller's allowed accounts ({}); a platform \
                 administrator adds it to the chart's multiAccount.allowedAccountIds, or annotates \
                 the namespace with a role in an allowed account",
                allowed.join(", ")
            ),
        };
    }
    Decision::Own {
        account: Some(own.to_string()),
    }
}

/// The decision for a namespace whose role annotation is `arn`: that role, if the annotations are
/// valid and its account is allowed.
fn decide_role(namespace: &str, arn: &str, external_id: Option<String>, allowed: &[String]) -> Decision {
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
            namespace: namespace.to_string(),
        },
        account,
    }
}

/// The most characters STS takes in a role session name (`RoleSessionName`: 2 to 64 of
/// `[\w+=,.@-]`).
pub const MAX_SESSION_NAME: usize = 64;

/// Hex digits of the digest that ends a shortened session name.
const SESSION_DIGEST_DIGITS: usize = 16;

fn session_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// The role session name for `namespace` in `cluster`: `<cluster>@<namespace>`, which shows in
/// CloudTrail as `assumed-role/<role>/<cluster>@<namespace>` and is what a trust policy matches
/// with `sts:RoleSessionName`. A namespace name never holds `@`, so no other cluster and namespace
/// give the same name. When that name is longer than STS allows, or holds a character STS refuses
/// (which becomes `_`), it is cut to 47 characters and ends with `-` and 16 hex digits of the
/// SHA-256 of `<cluster>@<namespace>`: deterministic, and still distinct.
pub fn session_name(cluster: &str, namespace: &str) -> String {
    use sha2::Digest;
    let full = format!("{cluster}@{namespace}");
    let clean: String = full
        .chars()
        .map(|c| if session_char(c) { c } else { '_' })
        .collect();
    if clean == full && (2..=MAX_SESSION_NAME).contains(&full.len()) {
        return full;
    }
    let digest = hex::encode(sha2::Sha256::digest(full.as_bytes()));
    let keep = MAX_SESSION_NAME - 1 - SESSION_DIGEST_DIGITS;
    let prefix: String = clean.chars().take(keep).collect();
    format!("{prefix}-{}", &digest[..SESSION_DIGEST_DIGITS])
}

/// Session tag key: the cluster that assumed the role.
pub const CLUSTER_TAG: &str = "runway.dev/cluster";
/// Session tag key: the namespace the role was assumed for.
pub const NAMESPACE_TAG: &str = "runway.dev/namespace";

/// The session tags for `namespace` in `cluster`, for trust policies (`aws:RequestTag/...`) and
/// permission policies (`aws:PrincipalTag/...`). Tag values take at most 256 characters of
/// letters, digits, spaces and `_.:/=+-@`; anything else becomes `_`.
pub fn session_tags(cluster: &str, namespace: &str) -> Vec<(String, String)> {
    let value = |v: &str| -> String {
        v.chars()
            .map(|c| {
                if c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .take(256)
            .collect()
    };
    vec![
        (CLUSTER_TAG.to_string(), value(cluster)),
        (NAMESPACE_TAG.to_string(), value(namespace)),
    ]
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
    const OWN: &str = "123456789012";

    fn tenancy(allowed: &[&str], require_role: bool) -> Tenancy {
        Tenancy {
            allowed: allowed.iter().map(|a| a.to_string()).collect(),
            require_role,
        }
    }

    /// One row of the decision table: annotations, allow-list, whether a role is required, the own
    /// account, and the outcome ([`outcome`]).
    type Row = (
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
        bool,
        Option<&'static str>,
        &'static str,
    );

    /// The decision's kind: `Own`, `Role`, or the refusal's reason.
    fn outcome(d: &Decision) -> &'static str {
        match d {
            Decision::Own { .. } => "Own",
            Decision::Role { .. } => "Role",
            Decision::Refused { reason, .. } => reason,
        }
    }

    #[test]
    fn each_tenancy_decides_each_namespace_as_the_table_says() {
        let none: &[(&str, &str)] = &[];
        let role: &[(&str, &str)] = &[(ROLE_ANNOTATION, ROLE)];
        let other: &[(&str, &str)] = &[("team", "a")];
        // (annotations, allow-list, require a role, own account, outcome)
        let table: &[Row] = &[
            // No allow-list: an unannotated namespace uses the own identity, known or not.
            (none, &[], false, Some(OWN), "Own"),
            (none, &[], false, None, "Own"),
            (other, &[], false, Some(OWN), "Own"),
            // An allow-list binds the own account too: it must be in it, and known.
            (none, &[OWN], false, Some(OWN), "Own"),
            (none, &["210987654321"], false, Some(OWN), "AccountNotAllowed"),
            (none, &[OWN], false, None, "OwnAccountUnknown"),
            (none, &["210987654321"], false, None, "OwnAccountUnknown"),
            // Requiring a role refuses every unannotated namespace, whatever the own account.
            (none, &[], true, Some(OWN), "NamespaceRoleRequired"),
            (none, &[OWN], true, Some(OWN), "NamespaceRoleRequired"),
            (none, &[], true, None, "NamespaceRoleRequired"),
            // A role is checked against the allow-list only; the own account does not matter.
            (role, &[], false, None, "Role"),
            (role, &[], true, None, "Role"),
            (role, &["210987654321"], true, Some(OWN), "Role"),
            (role, &[OWN], false, Some(OWN), "AccountNotAllowed"),
            (role, &[OWN, "210987654321"], false, None, "Role"),
        ];
        for (pairs, allowed, require_role, own, want) in table {
            let t = tenancy(allowed, *require_role);
            let d = decide("a", &annotations(pairs), &t, *own);
            assert_eq!(
                outcome(&d),
                *want,
                "{pairs:?} allowed={allowed:?} require_role={require_role} own={own:?}: {d:?}"
            );
        }
    }

    #[test]
    fn the_own_account_is_asked_for_only_when_a_namespace_may_use_it() {
        let role = annotations(&[(ROLE_ANNOTATION, ROLE)]);
        let none = annotations(&[]);
        assert!(needs_own_account(&none, &tenancy(&[], false)));
        assert!(needs_own_account(&none, &tenancy(&[OWN], false)));
        assert!(!needs_own_account(&none, &tenancy(&[OWN], true)));
        assert!(!needs_own_account(&role, &tenancy(&[], false)));
    }

    #[test]
    fn a_namespace_without_the_annotation_uses_the_controllers_own_identity_and_account() {
        assert_eq!(
            decide("a", &annotations(&[]), &tenancy(&[OWN], false), Some(OWN)),
            Decision::Own {
                account: Some(OWN.into())
            }
        );
        assert_eq!(
            decide("a", &annotations(&[]), &Tenancy::default(), None),
            Decision::Own { account: None }
        );
    }

    #[test]
    fn refusals_of_an_unannotated_namespace_say_why_and_what_to_do() {
        let message = |t: &Tenancy, own: Option<&str>| match decide("team-a", &annotations(&[]), t, own) {
            Decision::Refused { message, .. } => message,
            other => panic!("refused: {other:?}"),
        };
        let m = message(&tenancy(&["210987654321"], false), Some(OWN));
        assert!(
            m.contains("team-a") && m.contains(OWN) && m.contains("210987654321"),
            "{m}"
        );
        assert!(m.contains("multiAccount.allowedAccountIds"), "{m}");
        let m = message(&tenancy(&[OWN], false), None);
        assert!(m.contains("GetCallerIdentity") && m.contains(OWN), "{m}");
        let m = message(&tenancy(&[], true), Some(OWN));
        assert!(
            m.contains("--require-namespace-role") && m.contains(ROLE_ANNOTATION),
            "{m}"
        );
    }

    #[test]
    fn a_role_annotation_names_the_role_and_its_account() {
        let d = decide(
            "a",
            &annotations(&[(ROLE_ANNOTATION, ROLE), (EXTERNAL_ID_ANNOTATION, "team-a-7f3")]),
            &Tenancy::default(),
            None,
        );
        assert_eq!(
            d,
            Decision::Role {
                role: AssumedRole {
                    arn: ROLE.into(),
                    external_id: Some("team-a-7f3".into()),
                    namespace: "a".into(),
                },
                account: "210987654321".into()
            }
        );
        let with_path = "arn:aws-us-gov:iam::210987654321:role/platform/runway";
        assert!(matches!(
            decide(
                "a",
                &annotations(&[(ROLE_ANNOTATION, with_path)]),
                &Tenancy::default(),
                None
            ),
            Decision::Role { .. }
        ));
    }

    #[test]
    fn an_account_outside_the_allow_list_is_refused() {
        let d = decide(
            "a",
            &annotations(&[(ROLE_ANNOTATION, ROLE)]),
            &tenancy(&[OWN], false),
            Some(OWN),
        );
        let Decision::Refused { reason, message } = d else {
            panic!("refused: {d:?}")
        };
        assert_eq!(reason, "AccountNotAllowed");
        assert!(message.contains("210987654321"), "{message}");
    }

    #[test]
    fn malformed_annotations_are_refused_with_what_is_wrong() {
        let any = Tenancy::default();
        for bad in [
            "runway-team-a",
            "arn:aws:iam::2109876543:role/x",
            "arn:aws:iam::210987654321:user/x",
            "arn:aws:sts::210987654321:role/x",
            "arn:aws:iam::210987654321:role/has space",
        ] {
            let d = decide("a", &annotations(&[(ROLE_ANNOTATION, bad)]), &any, None);
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
            &any,
            None,
        );
        assert!(matches!(d, Decision::Refused { .. }), "{d:?}");
        // An External ID without a role is a mistake, not a request for the own identity.
        for t in [tenancy(&[], false), tenancy(&[OWN], true)] {
            let d = decide(
                "a",
                &annotations(&[(EXTERNAL_ID_ANNOTATION, "abc")]),
                &t,
                Some(OWN),
            );
            assert_eq!(outcome(&d), "InvalidAccountAnnotation", "{d:?}");
        }
    }

    #[test]
    fn an_account_id_is_twelve_digits() {
        assert_eq!(parse_account_id(" 012345678901 ").as_deref(), Ok("012345678901"));
        for bad in ["", "12345678901", "1234567890123", "12345678901a"] {
            assert!(parse_account_id(bad).is_err(), "{bad}");
        }
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

    #[test]
    fn a_session_is_named_after_the_cluster_and_the_namespace() {
        assert_eq!(session_name("prod-eu", "team-a"), "prod-eu@team-a");
        // `@` never occurs in a namespace name, so clusters and namespaces cannot trade dashes.
        assert_ne!(
            session_name("prod", "eu-team-a"),
            session_name("prod-eu", "team-a")
        );
        let longest_plain = format!("{}@{}", "c".repeat(10), "n".repeat(53));
        assert_eq!(session_name(&"c".repeat(10), &"n".repeat(53)), longest_plain);
    }

    #[test]
    fn a_long_or_odd_session_name_is_cut_and_ends_with_a_digest_of_the_whole() {
        let ns = "n".repeat(63);
        let a = session_name("production-cluster", &ns);
        assert_eq!(a.len(), MAX_SESSION_NAME);
        assert!(a.starts_with("production-cluster@nnn"), "{a}");
        assert_eq!(a, session_name("production-cluster", &ns), "deterministic");
        let other = format!("{}m", "n".repeat(62));
        let b = session_name("production-cluster", &other);
        assert_eq!(a[..47], b[..47]);
        assert_ne!(a, b);
        // A character STS refuses is replaced, and the digest keeps the names apart.
        let odd = session_name("my cluster", "team-a");
        assert!(odd.starts_with("my_cluster@team-a-"), "{odd}");
        assert_ne!(odd, session_name("my_cluster", "team-a"));
        for name in [a, b, odd, session_name("", "")] {
            assert!((2..=MAX_SESSION_NAME).contains(&name.len()), "{name}");
            assert!(name.chars().all(session_char), "{name}");
        }
    }

    #[test]
    fn session_tags_name_the_cluster_and_the_namespace() {
        assert_eq!(
            session_tags("prod", "team-a"),
            vec![
                (CLUSTER_TAG.to_string(), "prod".to_string()),
                (NAMESPACE_TAG.to_string(), "team-a".to_string())
            ]
        );
        assert_eq!(session_tags("a,b", "x")[0].1, "a_b");
    }
}

//! Many AWS accounts from one controller, end to end: the real `runway run` binary against the real
//! kube-apiserver and the multi-account AWS simulator. Namespaces name the role to assume with
//! `runway.dev/aws-role-arn`; one controller serves them all. A namespace without the annotation
//! uses the controller's own account (the simulator's default, 123456789012), which the allow-list
//! binds too, and which `--require-namespace-role` forbids. Assertions about AWS are on the
//! simulator's per-account call counts and the ARNs it hands out, and on what a session in each
//! account reads back (owner tags, App Runner services).

mod support;

use std::time::Duration;

use runway_sim::accounts::RoleConfig;
use runway_sim::client::{
    ClientOptions, apprunner_client_with_credentials, assume_role_provider, ecs_client_with_credentials,
};
use runway_sim::{FaultConfig, SimHandle};
use serde_json::{Value, json};
use support::controller::{Env, Options, STAGE_SECONDS, WAIT, condition, eventually, is_true, reason};

const XSVC: &str = "expressservice";
const ARSVC: &str = "apprunnerservice";
const DEFAULT_ACCOUNT: &str = "123456789012";
const ACCOUNT_A: &str = "210987654321";
const ACCOUNT_B: &str = "310987654321";
const ROLE_A: &str = "arn:aws:iam::210987654321:role/runway-team-a";
const ROLE_B: &str = "arn:aws:iam::310987654321:role/runway-team-b";
const EXTERNAL_ID_A: &str = "team-a-7f3c";
const TEST_LABEL: &str = "runway.dev/e2e";
/// The annotations that map a namespace to account A (its role and External ID).
const ROLE_A_NAMESPACE: [(&str, &str); 2] = [
    ("runway.dev/aws-role-arn", ROLE_A),
    ("runway.dev/aws-external-id", EXTERNAL_ID_A),
];
/// The annotation that maps a namespace to account B.
const ROLE_B_NAMESPACE: [(&str, &str); 1] = [("runway.dev/aws-role-arn", ROLE_B)];

/// An Express service labelled for this test's controller, whose roles live in `account` (ECS
/// refuses to pass a role of another account).
fn express(name: &str, label: &str, account: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name, "labels": {TEST_LABEL: label}},
        "spec": {
            "infrastructureRoleArn": format!("arn:aws:iam::{account}:role/ecsInfrastructureRole"),
            "executionRoleArn": format!("arn:aws:iam::{account}:role/ecsTaskExecutionRole"),
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27", "containerPort": 80}
        }
    })
}

/// One controller for every namespace, limited by label to this test's resources, with a 3 s
/// resync and the allow-list given.
fn all_namespaces(label: &str, allowed: &str) -> Options {
    let mut options = any_account(label);
    options
        .args
        .extend(["--allowed-account-ids".into(), allowed.into()]);
    options
}

/// One controller for every namespace, limited by label to this test's resources, with a 3 s
/// resync and no allow-list.
fn any_account(label: &str) -> Options {
    Options {
        all_namespaces: true,
        args: vec![
            "--watch-selector".into(),
            format!("{TEST_LABEL}={label}"),
            "--resync-seconds".into(),
            "3".into(),
        ],
        ..Options::default()
    }
}

/// Two resync periods of the controllers here (3 s each), and some.
const TWO_RESYNCS: Duration = Duration::from_secs(8);

fn annotate_namespace(env: &Env, ns: &str, pairs: &[(&str, &str)]) {
    let mut args = vec![
        "annotate".to_string(),
        "--overwrite".into(),
        "namespace".into(),
        ns.into(),
    ];
    args.extend(pairs.iter().map(|(k, v)| format!("{k}={v}")));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.cluster.kubectl_ok(&args, None);
}

fn add_roles(sim: &SimHandle) {
    sim.add_role(RoleConfig {
        external_id: Some(EXTERNAL_ID_A.into()),
        ..RoleConfig::new(ROLE_A)
    })
    .expect("role A");
    sim.add_role(RoleConfig::new(ROLE_B)).expect("role B");
}

/// Waits until `pred` holds for the ExpressService `ns/name`, moving simulated time past every
/// stage meanwhile.
fn wait_in(env: &Env, ns: &str, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    wait_kind_in(env, XSVC, ns, name, what, pred)
}

/// Waits until `pred` holds for `ns/name` of `resource` (`expressservice`, `apprunnerservice`),
/// moving simulated time past every stage meanwhile.
fn wait_kind_in(
    env: &Env,
    resource: &str,
    ns: &str,
    name: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    eventually(WAIT, what, || {
        env.sim.advance(STAGE_SECONDS + 1.0);
        env.cluster.get_json(resource, ns, name).filter(|o| pred(o))
    })
}

/// Credentials of a session in account A or B from the simulator's STS, as the test's own view of
/// that account.
async fn session_in(sim: &SimHandle, account: &str) -> aws_config::sts::AssumeRoleProvider {
    let (role, external_id) = if account == ACCOUNT_A {
        (ROLE_A, Some(EXTERNAL_ID_A))
    } else {
        (ROLE_B, None)
    };
    assume_role_provider(&sim.endpoint(), role, external_id).await
}

/// The `runway.dev/owner` tag of an ECS service of account A or B, read in that account; `None`
/// when the service has none.
async fn owner_tag_in(sim: &SimHandle, account: &str, service_arn: &str) -> Option<String> {
    let credentials = session_in(sim, account).await;
    let ecs = ecs_client_with_credentials(&sim.endpoint(), &ClientOptions::default(), credentials);
    support::controller::owner_tag(&ecs, service_arn).await
}

fn arn(obj: &Value) -> String {
    obj["status"]["serviceArn"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn errors(sim: &SimHandle) -> Vec<(String, u64)> {
    sim.stats()
        .outcomes
        .into_iter()
        .filter(|(key, n)| *n > 0 && !key.ends_with(":ok"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_namespaces_land_in_two_accounts_and_a_moved_namespace_stalls_without_a_second_service() {
    let env = Env::new("acct-a", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("acct-b");
    let ns_own = env.cluster.namespace("acct-own");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let allowed = format!("{ACCOUNT_A},{ACCOUNT_B},{DEFAULT_ACCOUNT}");
    let _runway = env.runway_with(all_namespaces(&ns_a, &allowed));

    env.cluster.apply(&ns_a, &express("web", &ns_a, ACCOUNT_A));
    env.cluster.apply(&ns_b, &express("web", &ns_a, ACCOUNT_B));
    env.cluster
        .apply(&ns_own, &express("web", &ns_a, DEFAULT_ACCOUNT));
    let a = wait_in(&env, &ns_a, "web", "Ready in account A", |o| is_true(o, "Ready"));
    let b = wait_in(&env, &ns_b, "web", "Ready in account B", |o| is_true(o, "Ready"));
    let own = wait_in(&env, &ns_own, "web", "Ready in the own account", |o| {
        is_true(o, "Ready")
    });
    assert!(arn(&a).contains(&format!(":{ACCOUNT_A}:service/")), "{}", arn(&a));
    assert!(arn(&b).contains(&format!(":{ACCOUNT_B}:service/")), "{}", arn(&b));
    assert!(
        arn(&own).contains(&format!(":{DEFAULT_ACCOUNT}:service/")),
        "{}",
        arn(&own)
    );

    let stats = env.sim.stats();
    for account in [ACCOUNT_A, ACCOUNT_B, DEFAULT_ACCOUNT] {
        assert_eq!(
            stats.account_calls(account, "ecs:CreateExpressGatewayService"),
            1,
            "one service in {account}: {:?}",
            stats.by_account
        );
    }
    // One AssumeRole per role; the credentials are cached, not fetched per reconcile.
    let assumed = stats.calls("sts:AssumeRole");
    assert!((2..=4).contains(&assumed), "{assumed} AssumeRole calls");
    assert!(errors(&env.sim).is_empty(), "{:?}", errors(&env.sim));

    // The platform team moves namespace B to account A: B's service stays where it is, runway
    // refuses to act on it from account A, and never creates a second one there.
    env.sim.reset_stats();
    annotate_namespace(&env, &ns_b, &[("runway.dev/aws-role-arn", ROLE_A)]);
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &ns_b,
            "runway.dev/reconcile-requested-at=moved",
        ],
        None,
    );
    let stalled = wait_in(&env, &ns_b, "web", "Stalled by the account mismatch", |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "AccountMismatch");
    assert!(
        message.contains(ACCOUNT_A) && message.contains(ACCOUNT_B),
        "{message}"
    );
    // Two resync periods: still nothing sent for B in either account.
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        0,
        "{:?}",
        stats.calls
    );
    assert_eq!(
        stats.calls("ecs:UpdateExpressGatewayService"),
        0,
        "{:?}",
        stats.calls
    );
    assert_eq!(
        stats.account_calls(ACCOUNT_B, "ecs:DescribeExpressGatewayService"),
        0
    );
    // A and the own account are still served.
    assert!(is_true(
        &env.cluster.get_json(XSVC, &ns_a, "web").expect("a"),
        "Ready"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disallowed_account_stalls_and_an_untrusted_role_is_reported_without_a_call_to_ecs() {
    let env = Env::new("acct-deny", XSVC).await;
    let ns_outside = env.ns.clone();
    let ns_untrusted = env.cluster.namespace("acct-untrusted");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_outside, &ROLE_B_NAMESPACE);
    // Role A needs its External ID; this namespace gives the wrong one.
    annotate_namespace(
        &env,
        &ns_untrusted,
        &[
            ("runway.dev/aws-role-arn", ROLE_A),
            ("runway.dev/aws-external-id", "not-the-one"),
        ],
    );
    let _runway = env.runway_with(all_namespaces(&ns_outside, ACCOUNT_A));
    env.cluster
        .apply(&ns_outside, &express("web", &ns_outside, ACCOUNT_B));
    env.cluster
        .apply(&ns_untrusted, &express("web", &ns_outside, ACCOUNT_A));

    let refused = wait_in(&env, &ns_outside, "web", "Stalled: account not allowed", |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(reason, "AccountNotAllowed");
    assert!(
        message.contains(ACCOUNT_B) && message.contains(ACCOUNT_A),
        "{message}"
    );
    assert!(refused["status"]["serviceArn"].is_null());

    let denied = wait_in(
        &env,
        &ns_untrusted,
        "web",
        "the AssumeRole refusal reported",
        |o| condition(o, "Ready").is_some_and(|(_, _, m)| m.contains("AssumeRole")),
    );
    let (_, _, message) = condition(&denied, "Ready").expect("Ready condition");
    assert!(message.contains("AccessDenied"), "{message}");
    // Retried like IAM propagation (a trust policy written a moment ago), Stalled once it lasts.
    let (status, reason, _) = condition(&denied, "Reconciling").expect("Reconciling");
    assert_eq!((status.as_str(), reason.as_str()), ("True", "IamPropagation"));

    let stats = env.sim.stats();
    assert_eq!(stats.account_calls(ACCOUNT_B, "sts:AssumeRole"), 0);
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        0,
        "{:?}",
        stats.calls
    );
    assert_eq!(
        stats.total_calls("ecs"),
        0,
        "no ECS call without usable credentials: {:?}",
        stats.calls
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiring_role_credentials_are_refreshed_before_a_call_fails() {
    let env = Env::new("acct-expiry", XSVC).await;
    add_roles(&env.sim);
    // Sessions last 15 s; the SDK's identity cache renews them within 10 s of expiry.
    env.sim.set_sts_credential_seconds(Some(15)).expect("cap");
    annotate_namespace(
        &env,
        &env.ns,
        &[
            ("runway.dev/aws-role-arn", ROLE_A),
            ("runway.dev/aws-external-id", EXTERNAL_ID_A),
        ],
    );
    let _runway = env.runway_with(all_namespaces(&env.ns, ACCOUNT_A));
    env.cluster.apply(&env.ns, &express("web", &env.ns, ACCOUNT_A));
    env.wait_ready("web");
    env.sim.reset_stats();

    // Three credential lifetimes of resyncs, every 3 s.
    std::thread::sleep(Duration::from_secs(45));
    let stats = env.sim.stats();
    let describes = stats.account_calls(ACCOUNT_A, "ecs:DescribeExpressGatewayService");
    assert!(describes >= 10, "{describes} resyncs in 45 s: {:?}", stats.calls);
    let renewals = stats.outcome("sts:AssumeRole:ok");
    assert!(
        renewals >= 2,
        "{renewals} renewals in three lifetimes: {:?}",
        stats.calls
    );
    assert!(
        errors(&env.sim).is_empty(),
        "no call failed: {:?}",
        errors(&env.sim)
    );
    let obj = env.get("web").expect("object");
    assert!(is_true(&obj, "Ready"), "{}", obj["status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_under_an_account_mismatch_keeps_the_finalizer_and_the_service_until_it_is_fixed() {
    let env = Env::new("acct-del", XSVC).await;
    let ns = env.ns.clone();
    add_roles(&env.sim);
    annotate_namespace(&env, &ns, &ROLE_B_NAMESPACE);
    let _runway = env.runway_with(all_namespaces(&ns, &format!("{ACCOUNT_A},{ACCOUNT_B}")));
    env.cluster.apply(&ns, &express("web", &ns, ACCOUNT_B));
    let ready = wait_in(&env, &ns, "web", "Ready in account B", |o| is_true(o, "Ready"));
    let service = arn(&ready);
    assert!(service.contains(&format!(":{ACCOUNT_B}:service/")), "{service}");

    // The namespace is mapped to account A, then the resource is deleted.
    annotate_namespace(&env, &ns, &[("runway.dev/aws-role-arn", ROLE_A)]);
    env.sim.reset_stats();
    env.cluster
        .kubectl_ok(&["delete", XSVC, "web", "-n", &ns, "--wait=false"], None);
    let stalled = wait_in(&env, &ns, "web", "the deletion Stalled by the mismatch", |o| {
        o["metadata"]["deletionTimestamp"].is_string()
            && condition(o, "Stalled").is_some_and(|(s, r, _)| s == "True" && r == "AccountMismatch")
    });
    let (_, _, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert!(
        message.contains(ACCOUNT_A) && message.contains(ACCOUNT_B),
        "{message}"
    );

    // Two resync periods: the finalizer holds the resource, and nothing deleted the service.
    std::thread::sleep(Duration::from_secs(8));
    let waiting = env
        .cluster
        .get_json(XSVC, &ns, "web")
        .expect("kept by its finalizer");
    assert!(
        waiting["metadata"]["finalizers"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{waiting}"
    );
    assert_eq!(
        env.sim.stats().calls("ecs:DeleteExpressGatewayService"),
        0,
        "{:?}",
        env.sim.stats().calls
    );

    // The mapping is fixed: runway deletes the service it created, and the resource goes.
    annotate_namespace(&env, &ns, &ROLE_B_NAMESPACE);
    eventually(WAIT, "the resource deleted with its service", || {
        env.sim.advance(STAGE_SECONDS + 1.0);
        env.cluster.get_json(XSVC, &ns, "web").is_none().then_some(())
    });
    assert_eq!(
        env.sim
            .stats()
            .account_calls(ACCOUNT_B, "ecs:DeleteExpressGatewayService"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unannotated_namespace_stalls_without_an_ecs_call_when_the_own_account_is_not_allowed() {
    let env = Env::new("acct-own-out", XSVC).await;
    let ns = env.ns.clone();
    let ns_a = env.cluster.namespace("acct-own-out-a");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    // The controller's own account (123456789012) is not in the list; account A is.
    let _runway = env.runway_with(all_namespaces(&ns, ACCOUNT_A));
    env.cluster.apply(&ns, &express("web", &ns, DEFAULT_ACCOUNT));
    env.cluster.apply(&ns_a, &express("web", &ns, ACCOUNT_A));
    let served = wait_in(&env, &ns_a, "web", "Ready in account A", |o| is_true(o, "Ready"));
    assert!(
        arn(&served).contains(&format!(":{ACCOUNT_A}:service/")),
        "{}",
        arn(&served)
    );

    let refused = wait_in(&env, &ns, "web", "Stalled: own account not allowed", |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(reason, "AccountNotAllowed");
    assert!(
        message.contains(DEFAULT_ACCOUNT) && message.contains(ACCOUNT_A) && message.contains(&ns),
        "{message}"
    );

    // Two resync periods: still no ECS call in the own account at all, and the own account was
    // asked for once.
    std::thread::sleep(TWO_RESYNCS);
    let obj = env.cluster.get_json(XSVC, &ns, "web").expect("object");
    assert!(is_true(&obj, "Stalled"), "{}", obj["status"]);
    assert!(obj["status"]["serviceArn"].is_null(), "{}", obj["status"]);
    let stats = env.sim.stats();
    assert!(
        stats
            .by_account
            .get(DEFAULT_ACCOUNT)
            .is_none_or(|calls| calls.keys().all(|k| !k.starts_with("ecs:"))),
        "{:?}",
        stats.by_account
    );
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        1,
        "only account A's: {:?}",
        stats.by_account
    );
    assert_eq!(stats.calls("sts:GetCallerIdentity"), 1, "{:?}", stats.calls);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unannotated_namespace_stalls_while_the_own_account_cannot_be_learned_under_an_allow_list() {
    let env = Env::new("acct-own-unknown", XSVC).await;
    let ns = env.ns.clone();
    // Temporary credentials the simulator never issued: STS GetCallerIdentity answers
    // InvalidClientTokenId, so the controller cannot learn its own account.
    let mut options = all_namespaces(&ns, DEFAULT_ACCOUNT);
    options.env = vec![
        ("AWS_ACCESS_KEY_ID".into(), "ASIAUNKNOWNSESSIONXX".into()),
        ("AWS_SESSION_TOKEN".into(), "never-issued".into()),
    ];
    let _runway = env.runway_with(options);
    env.cluster.apply(&ns, &express("web", &ns, DEFAULT_ACCOUNT));

    let refused = wait_in(&env, &ns, "web", "Stalled: own account unknown", |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(reason, "OwnAccountUnknown");
    assert!(
        message.contains("GetCallerIdentity") && message.contains(DEFAULT_ACCOUNT),
        "{message}"
    );

    // Two resync periods: no ECS call, and STS is not asked again and again (its failure is kept).
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(stats.total_calls("ecs"), 0, "{:?}", stats.calls);
    let asked = stats.calls("sts:GetCallerIdentity");
    assert!(
        (1..=2).contains(&asked),
        "{asked} GetCallerIdentity calls: {:?}",
        stats.calls
    );
    let obj = env.cluster.get_json(XSVC, &ns, "web").expect("object");
    assert!(is_true(&obj, "Stalled"), "{}", obj["status"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_namespace_role_refuses_an_unannotated_namespace_and_serves_one_with_a_role() {
    let env = Env::new("acct-req", XSVC).await;
    let ns_plain = env.ns.clone();
    let ns_a = env.cluster.namespace("acct-req-a");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    let mut options = any_account(&ns_plain);
    options.args.push("--require-namespace-role".into());
    let _runway = env.runway_with(options);
    env.cluster
        .apply(&ns_plain, &express("web", &ns_plain, DEFAULT_ACCOUNT));
    env.cluster.apply(&ns_a, &express("web", &ns_plain, ACCOUNT_A));

    let refused = wait_in(&env, &ns_plain, "web", "Stalled: role required", |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&refused, "Stalled").expect("Stalled");
    assert_eq!(reason, "NamespaceRoleRequired");
    assert!(
        message.contains(&ns_plain) && message.contains("runway.dev/aws-role-arn"),
        "{message}"
    );
    let served = wait_in(&env, &ns_a, "web", "Ready in account A", |o| is_true(o, "Ready"));
    assert!(
        arn(&served).contains(&format!(":{ACCOUNT_A}:service/")),
        "{}",
        arn(&served)
    );

    // Two resync periods: nothing in the controller's own account, which was never even asked for.
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(
        stats.account_calls(DEFAULT_ACCOUNT, "ecs:DescribeExpressGatewayService")
            + stats.account_calls(DEFAULT_ACCOUNT, "ecs:CreateExpressGatewayService"),
        0,
        "{:?}",
        stats.by_account
    );
    assert_eq!(stats.calls("sts:GetCallerIdentity"), 0, "{:?}", stats.calls);
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        1,
        "{:?}",
        stats.calls
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_namespace_assumes_its_role_in_a_session_named_after_the_cluster_and_the_namespace() {
    const CLUSTER: &str = "e2e-tenancy";
    let env = Env::new("acct-sess", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_c = env.cluster.namespace("acct-sess-c");
    add_roles(&env.sim);
    // Two namespaces name the same role: each gets sessions of its own.
    for ns in [&ns_a, &ns_c] {
        annotate_namespace(
            &env,
            ns,
            &[
                ("runway.dev/aws-role-arn", ROLE_A),
                ("runway.dev/aws-external-id", EXTERNAL_ID_A),
            ],
        );
    }
    let mut options = all_namespaces(&ns_a, ACCOUNT_A);
    options.args.extend([
        "--cluster-name".to_string(),
        CLUSTER.to_string(),
        "--aws-session-tags".to_string(),
    ]);
    let _runway = env.runway_with(options);
    // One account, one ECS cluster: the two services need names of their own.
    env.cluster.apply(&ns_a, &express("web-a", &ns_a, ACCOUNT_A));
    env.cluster.apply(&ns_c, &express("web-c", &ns_a, ACCOUNT_A));
    wait_in(&env, &ns_a, "web-a", "Ready in account A", |o| {
        is_true(o, "Ready")
    });
    wait_in(&env, &ns_c, "web-c", "Ready in account A", |o| {
        is_true(o, "Ready")
    });

    let sessions = env.sim.sessions();
    let mut names: Vec<&str> = sessions
        .iter()
        .filter(|s| s.role_arn == ROLE_A)
        .map(|s| s.session_name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut want = vec![format!("{CLUSTER}@{ns_a}"), format!("{CLUSTER}@{ns_c}")];
    want.sort_unstable();
    assert_eq!(names, want, "{sessions:?}");
    for session in &sessions {
        let ns = session
            .session_name
            .strip_prefix(&format!("{CLUSTER}@"))
            .expect("named after the cluster");
        assert_eq!(
            session.tags.get("runway.dev/namespace").map(String::as_str),
            Some(ns),
            "{session:?}"
        );
        assert_eq!(
            session.tags.get("runway.dev/cluster").map(String::as_str),
            Some(CLUSTER)
        );
    }
    assert!(errors(&env.sim).is_empty(), "{:?}", errors(&env.sim));

    // Two resync periods: the resources are read again, in their own sessions, and no role is
    // assumed again (each namespace's credentials are cached for an hour).
    env.sim.reset_stats();
    std::thread::sleep(Duration::from_secs(8));
    let stats = env.sim.stats();
    assert!(
        stats.account_calls(ACCOUNT_A, "ecs:DescribeExpressGatewayService") >= 2,
        "{:?}",
        stats.calls
    );
    assert_eq!(stats.calls("sts:AssumeRole"), 0, "{:?}", env.sim.sessions());
}

/// An ExpressService that adopts `service_arn` and asks for it to be deleted with the resource.
fn adopting(name: &str, label: &str, service_arn: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name, "labels": {TEST_LABEL: label}},
        "spec": {
            "serviceArn": service_arn,
            "deletionPolicy": "Delete",
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.99", "containerPort": 80}
        }
    })
}

fn stalled_reason(env: &Env, ns: &str, name: &str, reason: &str) -> Value {
    wait_in(env, ns, name, &format!("{ns}/{name} Stalled: {reason}"), |o| {
        condition(o, "Stalled").is_some_and(|(s, r, _)| s == "True" && r == reason)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_cannot_take_over_another_namespaces_service_from_the_same_account_or_another() {
    // Namespace "owner" runs in account A. Tenant "same" shares account A (a second role of the
    // account would do the same); tenant "other" runs in account B. Both name the owner's service
    // by ARN and ask for it to be deleted with their resource.
    let env = Env::new("tenancy-owner", XSVC).await;
    let ns_owner = env.ns.clone();
    let ns_same = env.cluster.namespace("tenancy-same");
    let ns_other = env.cluster.namespace("tenancy-other");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_owner, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_same, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_other, &ROLE_B_NAMESPACE);
    let _runway = env.runway_with(all_namespaces(&ns_owner, &format!("{ACCOUNT_A},{ACCOUNT_B}")));
    env.cluster
        .apply(&ns_owner, &express("web", &ns_owner, ACCOUNT_A));
    let owned = wait_in(&env, &ns_owner, "web", "Ready in account A", |o| {
        is_true(o, "Ready")
    });
    let service = arn(&owned);
    assert!(service.contains(&format!(":{ACCOUNT_A}:service/")), "{service}");
    env.sim.reset_stats();

    env.cluster
        .apply(&ns_same, &adopting("thief", &ns_owner, &service));
    env.cluster
        .apply(&ns_other, &adopting("thief", &ns_owner, &service));
    let same = stalled_reason(&env, &ns_same, "thief", "ServiceOwnedByAnother");
    let (_, _, message) = condition(&same, "Stalled").expect("Stalled");
    assert!(message.contains(&format!("{ns_owner}/web")), "{message}");
    let other = stalled_reason(&env, &ns_other, "thief", "AccountMismatch");
    let (_, _, message) = condition(&other, "Stalled").expect("Stalled");
    assert!(
        message.contains(ACCOUNT_A) && message.contains(ACCOUNT_B),
        "{message}"
    );
    for thief in [&same, &other] {
        assert!(thief["status"]["serviceArn"].is_null(), "{thief}");
    }

    // Two resync periods: nothing was sent to the owner's service, and account B never heard of it.
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(stats.mutating_calls(), 0, "{:?}", stats.calls);
    assert_eq!(
        stats.account_calls(ACCOUNT_B, "ecs:DescribeExpressGatewayService"),
        0,
        "{:?}",
        stats.by_account
    );

    // Deleting the thief of the same account releases it without a call: the service is not its.
    env.cluster
        .kubectl_ok(&["delete", XSVC, "thief", "-n", &ns_same, "--timeout=60s"], None);
    // The thief of account B cannot tell from account B what it may have managed in account A, so
    // its deletion waits (finalizer kept, nothing sent) until the mapping is fixed or someone
    // removes the finalizer, as docs/multi-account.md says.
    env.cluster
        .kubectl_ok(&["delete", XSVC, "thief", "-n", &ns_other, "--wait=false"], None);
    std::thread::sleep(TWO_RESYNCS);
    let held = env
        .cluster
        .get_json(XSVC, &ns_other, "thief")
        .expect("kept by its finalizer");
    assert!(
        condition(&held, "Stalled").is_some_and(|(s, r, _)| s == "True" && r == "AccountMismatch"),
        "{held}"
    );
    env.cluster.kubectl_ok(
        &[
            "patch",
            XSVC,
            "thief",
            "-n",
            &ns_other,
            "--type=merge",
            "-p",
            r#"{"metadata":{"finalizers":null}}"#,
        ],
        None,
    );
    eventually(WAIT, "the account B thief gone", || {
        env.cluster
            .get_json(XSVC, &ns_other, "thief")
            .is_none()
            .then_some(())
    });
    let stats = env.sim.stats();
    assert_eq!(stats.mutating_calls(), 0, "{:?}", stats.calls);
    let owner = env
        .cluster
        .get_json(XSVC, &ns_owner, "web")
        .expect("the owner's resource");
    assert!(is_true(&owner, "Ready"), "{owner}");
    assert_eq!(owner["status"]["statusCode"], "ACTIVE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_namespaces_burst_of_changes_never_holds_up_another_namespaces_create() {
    // Two change slots, so each namespace may hold one. Every AWS call takes 1.5 s. Namespace B
    // (account B) creates eight services at once; namespace A (account A) then creates one. Without
    // fairness B's eight reconciles fill both slots and the runner's room, and A's create waits
    // behind most of B's; with it, A's create goes out while B's are still coming.
    let env = Env::new("fair-a", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("fair-b");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let mut options = any_account(&ns_a);
    options
        .args
        .extend(["--max-concurrent-reconciles".into(), "2".into()]);
    let _runway = env.runway_with(options);
    // Both roles are assumed before the slow calls begin, so that neither namespace's first
    // reconcile waits for STS.
    env.cluster.apply(&ns_a, &express("warm", &ns_a, ACCOUNT_A));
    env.cluster.apply(&ns_b, &express("warm", &ns_a, ACCOUNT_B));
    wait_in(&env, &ns_a, "warm", "A warm", |o| is_true(o, "Ready"));
    wait_in(&env, &ns_b, "warm", "B warm", |o| is_true(o, "Ready"));

    env.sim
        .set_faults(FaultConfig {
            latency_ms: 1500,
            ..FaultConfig::default()
        })
        .expect("latency");
    env.sim.reset_stats();
    let burst = 8;
    for i in 0..burst {
        env.cluster
            .apply(&ns_b, &express(&format!("burst-{i}"), &ns_a, ACCOUNT_B));
    }
    eventually(WAIT, "B's first create", || {
        (env.sim
            .stats()
            .account_calls(ACCOUNT_B, "ecs:CreateExpressGatewayService")
            >= 1)
            .then_some(())
    });
    env.cluster.apply(&ns_a, &express("web", &ns_a, ACCOUNT_A));
    let b_creates_before_a = eventually(WAIT, "A's create", || {
        let stats = env.sim.stats();
        (stats.account_calls(ACCOUNT_A, "ecs:CreateExpressGatewayService") >= 1)
            .then(|| stats.account_calls(ACCOUNT_B, "ecs:CreateExpressGatewayService"))
    });
    assert!(
        b_creates_before_a <= burst / 2,
        "A's create waited for {b_creates_before_a} of B's {burst} creates"
    );
    env.sim.set_faults(FaultConfig::default()).expect("no latency");
    wait_in(&env, &ns_a, "web", "A Ready", |o| is_true(o, "Ready"));
    for i in 0..burst {
        wait_in(&env, &ns_b, &format!("burst-{i}"), "B Ready", |o| {
            is_true(o, "Ready")
        });
    }
}

/// Starts a controller for this test's resources in every namespace, with the cluster identity
/// given, after `extra` options.
fn cluster_controller(
    env: &Env,
    label: &str,
    cluster_id: &str,
    extra: Vec<(String, String)>,
) -> support::controller::Runway {
    let mut options = any_account(label);
    options.args.extend(["--cluster-id".into(), cluster_id.into()]);
    options.env = extra;
    env.runway_with(options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retained_services_in_two_accounts_lose_their_owner_tags_and_are_never_taken_over_by_name() {
    // Namespaces A and B run in accounts A and B, served by the controller of cluster "cluster-one".
    // Each keeps its service when its resource goes (Retain): runway releases the service by
    // removing its owner tag in that account. A new resource of the same namespace and name then
    // stalls instead of taking the service over (and, with the default deletionPolicy Delete,
    // deleting it later).
    let env = Env::new("retain-a", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("retain-b");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let _runway = cluster_controller(&env, &ns_a, "cluster-one", Vec::new());
    let tenants = [(ns_a.as_str(), ACCOUNT_A), (ns_b.as_str(), ACCOUNT_B)];
    for (ns, account) in tenants {
        let mut kept = express("kept", &ns_a, account);
        kept["spec"]["deletionPolicy"] = json!("Retain");
        env.cluster.apply(ns, &kept);
    }
    let mut services = Vec::new();
    for (ns, account) in tenants {
        let ready = wait_in(&env, ns, "kept", "Ready", |o| is_true(o, "Ready"));
        let service = arn(&ready);
        assert!(service.contains(&format!(":{account}:service/")), "{service}");
        assert_eq!(
            owner_tag_in(&env.sim, account, &service).await,
            Some(format!("{ns}/kept@cluster-one")),
            "the owner tag names the namespace, the name and the cluster"
        );
        services.push(service);
    }

    for (ns, _) in tenants {
        env.cluster
            .kubectl_ok(&["delete", XSVC, "kept", "-n", ns, "--timeout=60s"], None);
    }
    for ((_, account), service) in tenants.iter().zip(&services) {
        assert_eq!(
            owner_tag_in(&env.sim, account, service).await,
            None,
            "{service} released in account {account}"
        );
    }
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:DeleteExpressGatewayService"),
        0,
        "retained, not deleted: {:?}",
        stats.calls
    );

    env.sim.reset_stats();
    for (ns, account) in tenants {
        env.cluster.apply(ns, &express("kept", &ns_a, account));
    }
    for (ns, _) in tenants {
        let stalled = stalled_reason(&env, ns, "kept", "ServiceNameInUse");
        assert!(stalled["status"]["serviceArn"].is_null(), "{stalled}");
    }
    // Two resync periods: nothing was sent to either retained service, and each namespace looked
    // for its name in its own account.
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(stats.mutating_calls(), 0, "{:?}", stats.calls);
    for account in [ACCOUNT_A, ACCOUNT_B] {
        assert!(
            stats
                .by_account
                .get(account)
                .is_some_and(|calls| !calls.is_empty()),
            "{account}: {:?}",
            stats.by_account
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_another_cluster_created_in_two_accounts_are_never_claimed_and_their_cluster_finds_them() {
    // Cluster "cluster-a" creates a service in account A for namespace A and one in account B for
    // namespace B, and crashes each time before it records the service. Cluster "cluster-b",
    // sharing both accounts, has resources of the same namespaces and names: it claims neither
    // service. Cluster A, back, finds both of its own by name and creates nothing again.
    let env = Env::new("clusters-a", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("clusters-b");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let tenants = [(ns_a.as_str(), ACCOUNT_A), (ns_b.as_str(), ACCOUNT_B)];
    for (i, (ns, account)) in tenants.into_iter().enumerate() {
        // One crashing controller per namespace, each watching only that namespace's resource.
        let label = format!("{ns_a}-{i}");
        env.cluster.apply(ns, &express("web", &label, account));
        let failpoint = vec![("RUNWAY_FAILPOINT".into(), "exit-after-create".into())];
        let mut crashing = cluster_controller(&env, &label, "cluster-a", failpoint);
        assert_eq!(crashing.wait_exit(WAIT), Some(86), "{}", crashing.log_tail());
        let stats = env.sim.stats();
        assert_eq!(
            stats.account_calls(account, "ecs:CreateExpressGatewayService"),
            1,
            "{:?}",
            stats.by_account
        );
        let web = env.cluster.get_json(XSVC, ns, "web").expect("web");
        assert!(web["status"]["serviceArn"].is_null(), "unrecorded: {web}");
        env.cluster.kubectl_ok(
            &[
                "label",
                "--overwrite",
                XSVC,
                "web",
                "-n",
                ns,
                &format!("{TEST_LABEL}={ns_a}"),
            ],
            None,
        );
    }

    env.sim.reset_stats();
    let cluster_b = cluster_controller(&env, &ns_a, "cluster-b", Vec::new());
    for (ns, _) in tenants {
        let stalled = stalled_reason(&env, ns, "web", "ServiceNameInUse");
        let (_, _, message) = condition(&stalled, "Stalled").expect("Stalled");
        assert!(message.contains("in cluster cluster-a"), "{message}");
        assert!(stalled["status"]["serviceArn"].is_null(), "{stalled}");
    }
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(stats.mutating_calls(), 0, "{:?}", stats.calls);
    drop(cluster_b);

    let _cluster_a = cluster_controller(&env, &ns_a, "cluster-a", Vec::new());
    for (ns, account) in tenants {
        let ready = wait_in(&env, ns, "web", "found by its own cluster", |o| {
            is_true(o, "Ready")
        });
        let service = arn(&ready);
        assert!(service.contains(&format!(":{account}:service/")), "{service}");
        assert_eq!(
            owner_tag_in(&env.sim, account, &service).await,
            Some(format!("{ns}/web@cluster-a"))
        );
    }
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("ecs:CreateExpressGatewayService"),
        0,
        "no second service: {:?}",
        stats.calls
    );
}

/// A paused App Runner service labelled for this test's controller.
fn paused_app_runner(name: &str, label: &str, image: &str) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "AppRunnerService",
        "metadata": {"name": name, "labels": {TEST_LABEL: label}},
        "spec": {
            "paused": true,
            "sourceConfiguration": {
                "imageRepository": {
                    "imageIdentifier": image,
                    "imageRepositoryType": "ECR_PUBLIC",
                    "imageConfiguration": {"port": "80"}
                },
                "autoDeploymentsEnabled": false
            }
        }
    })
}

/// Throttles every App Runner UpdateService of `accounts` from now on, and returns an App Runner
/// client of each account, in order. NB: each account's bucket starts with one call; an
/// UpdateService for no service takes it.
async fn throttle_app_runner_updates(sim: &SimHandle, accounts: &[&str]) -> Vec<aws_sdk_apprunner::Client> {
    let mut faults = sim.faults();
    faults
        .rate_limit_per_second
        .insert("apprunner:UpdateService".into(), 0.0001);
    sim.set_faults(faults).expect("faults");
    let mut clients = Vec::new();
    for account in accounts {
        let credentials = session_in(sim, account).await;
        let client =
            apprunner_client_with_credentials(&sim.endpoint(), &ClientOptions::default(), credentials);
        let drained = client
            .update_service()
            .service_arn(format!(
                "arn:aws:apprunner:us-east-1:{account}:service/none/00000000000000000000000000000000"
            ))
            .send()
            .await;
        assert!(drained.is_err(), "no such service");
        clients.push(client);
    }
    clients
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_services_in_two_accounts_retry_throttled_updates_and_never_record_a_refusal() {
    // Namespaces A and B (accounts A and B) each run a paused App Runner service. App Runner
    // throttles every UpdateService in both accounts while both specs change. Throttling is not
    // App Runner refusing to update a paused service: neither resource records a rejection or
    // stalls, and once the throttling stops each update is sent and applied, the service still
    // paused.
    let env = Env::new("pthrottle-a", ARSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("pthrottle-b");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let _runway = env.runway_with(all_namespaces(&ns_a, &format!("{ACCOUNT_A},{ACCOUNT_B}")));
    let tenants = [(ns_a.as_str(), ACCOUNT_A), (ns_b.as_str(), ACCOUNT_B)];
    let old = "public.ecr.aws/nginx/nginx:1.27";
    let new = "public.ecr.aws/nginx/nginx:1.28";
    for (ns, _) in tenants {
        env.cluster.apply(ns, &paused_app_runner("webapp", &ns_a, old));
    }
    let mut services = Vec::new();
    for (ns, account) in tenants {
        let paused = wait_kind_in(&env, ARSVC, ns, "webapp", "Ready, Paused", |o| {
            is_true(o, "Ready") && reason(o, "Ready") == "Paused"
        });
        let service = arn(&paused);
        assert!(service.contains(&format!(":{account}:service/")), "{service}");
        services.push(service);
    }

    // Every UpdateService of either account is throttled from now on.
    let clients = throttle_app_runner_updates(&env.sim, &[ACCOUNT_A, ACCOUNT_B]).await;
    env.sim.reset_stats();
    for (ns, _) in tenants {
        env.cluster.apply(ns, &paused_app_runner("webapp", &ns_a, new));
    }
    for (ns, _) in tenants {
        let throttled = wait_kind_in(&env, ARSVC, ns, "webapp", "Reconciling: throttled", |o| {
            condition(o, "Reconciling").is_some_and(|(s, r, _)| s == "True" && r == "AwsThrottled")
        });
        assert!(throttled["status"]["lastFailedHash"].is_null(), "{throttled}");
        assert!(!is_true(&throttled, "Stalled"), "{throttled}");
    }
    let stats = env.sim.stats();
    for account in [ACCOUNT_A, ACCOUNT_B] {
        assert!(
            stats.account_calls(account, "apprunner:UpdateService") >= 1,
            "{account}: {:?}",
            stats.by_account
        );
    }
    assert!(
        stats.outcome("apprunner:UpdateService:ThrottlingException") >= 2,
        "{:?}",
        stats.outcomes
    );

    // AWS stops throttling: each update goes out and is applied; the services stay paused.
    env.sim.set_faults(FaultConfig::default()).expect("no faults");
    for (ns, _) in tenants {
        let updated = wait_kind_in(&env, ARSVC, ns, "webapp", "Ready, Paused, updated", |o| {
            is_true(o, "Ready") && reason(o, "Ready") == "Paused"
        });
        assert!(updated["status"]["lastFailedHash"].is_null(), "{updated}");
    }
    for (client, service) in clients.iter().zip(&services) {
        let described = client
            .describe_service()
            .service_arn(service)
            .send()
            .await
            .expect("describe");
        let described = described.service().expect("service");
        assert_eq!(described.status().as_str(), "PAUSED", "{described:?}");
        let image = described
            .source_configuration()
            .and_then(|s| s.image_repository())
            .map(|i| i.image_identifier());
        assert_eq!(image, Some(new), "{described:?}");
    }
    let stats = env.sim.stats();
    assert_eq!(
        stats.outcome("apprunner:UpdateService:ok"),
        2,
        "one applied update per account: {:?}",
        stats.outcomes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_arn_added_after_creation_is_refused_at_apply_and_each_service_stays_tracked() {
    // Namespaces A and B (accounts A and B) each have a service runway created. Tenant B then
    // points its resource at A's service, and tenant A at its own: the apiserver refuses both
    // (spec.serviceArn names a service to adopt and cannot be added later). Nothing changes in
    // AWS, and deleting B's resource still deletes B's own service, in account B only.
    let env = Env::new("arn-late-a", XSVC).await;
    let ns_a = env.ns.clone();
    let ns_b = env.cluster.namespace("arn-late-b");
    add_roles(&env.sim);
    annotate_namespace(&env, &ns_a, &ROLE_A_NAMESPACE);
    annotate_namespace(&env, &ns_b, &ROLE_B_NAMESPACE);
    let _runway = env.runway_with(all_namespaces(&ns_a, &format!("{ACCOUNT_A},{ACCOUNT_B}")));
    env.cluster.apply(&ns_a, &express("web", &ns_a, ACCOUNT_A));
    env.cluster.apply(&ns_b, &express("web", &ns_a, ACCOUNT_B));
    let service_a = arn(&wait_in(&env, &ns_a, "web", "A Ready", |o| is_true(o, "Ready")));
    let service_b = arn(&wait_in(&env, &ns_b, "web", "B Ready", |o| is_true(o, "Ready")));
    env.sim.reset_stats();

    for (ns, target) in [(&ns_b, &service_a), (&ns_a, &service_a)] {
        let patch = json!({"spec": {"serviceArn": target}}).to_string();
        let out = env.cluster.kubectl(
            &["patch", XSVC, "web", "-n", ns, "--type=merge", "-p", &patch],
            None,
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{ns}: the patch was accepted");
        assert!(
            stderr.contains("spec.serviceArn") && stderr.contains("cannot be added after creation"),
            "{ns}: {stderr}"
        );
    }
    std::thread::sleep(TWO_RESYNCS);
    let stats = env.sim.stats();
    assert_eq!(stats.mutating_calls(), 0, "{:?}", stats.calls);
    for (ns, service) in [(&ns_a, &service_a), (&ns_b, &service_b)] {
        let obj = env.cluster.get_json(XSVC, ns, "web").expect("object");
        assert!(obj["spec"]["serviceArn"].is_null(), "{obj}");
        assert_eq!(&arn(&obj), service, "{obj}");
        assert!(is_true(&obj, "Ready"), "{obj}");
    }

    env.cluster
        .kubectl_ok(&["delete", XSVC, "web", "-n", &ns_b, "--wait=false"], None);
    eventually(WAIT, "B's resource deleted with its service", || {
        env.sim.advance(STAGE_SECONDS + 1.0);
        env.cluster.get_json(XSVC, &ns_b, "web").is_none().then_some(())
    });
    let stats = env.sim.stats();
    assert_eq!(
        stats.account_calls(ACCOUNT_B, "ecs:DeleteExpressGatewayService"),
        1,
        "{:?}",
        stats.by_account
    );
    assert_eq!(
        stats.account_calls(ACCOUNT_A, "ecs:DeleteExpressGatewayService"),
        0,
        "{:?}",
        stats.by_account
    );
}

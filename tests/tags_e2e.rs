//! Tags end to end, for both kinds: the real `runway run` binary against the real kube-apiserver and
//! the AWS simulator. A tag edit sends exactly the tag calls (TagResource, UntagResource, and for
//! App Runner one ListTagsForResource) and no configuration update; tags that others set survive;
//! a tag changed outside runway is set back on resync; a tag change AWS rejects stalls without a hot
//! loop. Assertions about AWS are on the simulator's call counts and on the tags it holds.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use runway_sim::SimHandle;
use runway_sim::client::{apprunner_client, ecs_client};
use serde_json::{Value, json};
use support::controller::{Env, Options, WAIT, condition, is_true};

const XSVC: &str = "expressservice";
const ARSVC: &str = "apprunnerservice";
/// Every configuration call of either service: a tag edit must send none of them.
const CONFIGURATION_CALLS: &[&str] = &[
    "ecs:CreateExpressGatewayService",
    "ecs:UpdateExpressGatewayService",
    "ecs:UpdateService",
    "apprunner:CreateService",
    "apprunner:UpdateService",
    "apprunner:StartDeployment",
    "apprunner:PauseService",
    "apprunner:ResumeService",
];

/// A controller with a 3 s resync: the "nothing was sent again" checks sleep over two periods.
fn short_resync() -> Options {
    Options {
        args: vec!["--resync-seconds".into(), "3".into()],
        ..Options::default()
    }
}

fn express(name: &str, tags: Value) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": name},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27", "containerPort": 80},
            "tags": tags
        }
    })
}

fn app_runner(name: &str, tags: Value) -> Value {
    json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "AppRunnerService",
        "metadata": {"name": name},
        "spec": {
            "sourceConfiguration": {
                "imageRepository": {
                    "imageIdentifier": "public.ecr.aws/nginx/nginx:1.27",
                    "imageRepositoryType": "ECR_PUBLIC",
                    "imageConfiguration": {"port": "80"}
                },
                "autoDeploymentsEnabled": false
            },
            "tags": tags
        }
    })
}

fn configuration_calls(sim: &SimHandle) -> u64 {
    let stats = sim.stats();
    CONFIGURATION_CALLS.iter().map(|k| stats.calls(k)).sum()
}

fn applied_tags(obj: &Value) -> Value {
    obj["status"]["appliedTags"].clone()
}

async fn ecs_tags(sim: &SimHandle, arn: &str) -> BTreeMap<String, String> {
    let out = ecs_client(&sim.endpoint())
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("ListTagsForResource");
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn apprunner_tags(sim: &SimHandle, arn: &str) -> BTreeMap<String, String> {
    let out = apprunner_client(&sim.endpoint())
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("ListTagsForResource");
    out.tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn ecs_tag(sim: &SimHandle, arn: &str, key: &str, value: &str) {
    let tag = aws_sdk_ecs::types::Tag::builder().key(key).value(value).build();
    ecs_client(&sim.endpoint())
        .tag_resource()
        .resource_arn(arn)
        .tags(tag)
        .send()
        .await
        .expect("TagResource by someone else");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn express_tag_edit_sends_only_tag_calls_keeps_foreign_tags_and_corrects_drift() {
    let env = Env::new("t-xsvc", XSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut m = express(
        "web",
        json!([{"key": "team", "value": "web"}, {"key": "env", "value": "prod"}]),
    );
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    assert_eq!(applied_tags(&ready), json!({"env": "prod", "team": "web"}));
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    // Someone else tags the service too (a cost tool, say).
    ecs_tag(&env.sim, &arn, "cost-tool", "tracked").await;
    let deployment = ready["status"]["currentDeployment"].clone();
    env.sim.reset_stats();

    // Change one value, add one tag, drop one.
    m["spec"]["tags"] = json!([{"key": "team", "value": "payments"}, {"key": "cost-centre", "value": "42"}]);
    env.cluster.apply(&env.ns, &m);
    let edited = env.wait_for("web", "the new tags applied", false, |o| {
        applied_tags(o) == json!({"cost-centre": "42", "team": "payments"}) && is_true(o, "Ready")
    });
    let tags = ecs_tags(&env.sim, &arn).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"), "{tags:?}");
    assert_eq!(
        tags.get("cost-centre").map(String::as_str),
        Some("42"),
        "{tags:?}"
    );
    assert!(!tags.contains_key("env"), "the dropped tag is gone: {tags:?}");
    assert_eq!(
        tags.get("cost-tool").map(String::as_str),
        Some("tracked"),
        "foreign tag kept: {tags:?}"
    );
    // The owner tag names the resource and, after `@`, the cluster identity.
    assert!(
        tags.get("runway.dev/owner")
            .is_some_and(|v| v.starts_with(&format!("{}/web@", env.ns))),
        "owner tag kept: {tags:?}"
    );
    assert!(
        tags.contains_key("AmazonECSManaged"),
        "AWS's managed tag kept: {tags:?}"
    );
    let stats = env.sim.stats();
    assert_eq!(stats.outcome("ecs:TagResource:ok"), 1, "{:?}", stats.calls);
    assert_eq!(stats.outcome("ecs:UntagResource:ok"), 1, "{:?}", stats.calls);
    assert_eq!(configuration_calls(&env.sim), 0, "{:?}", stats.calls);
    assert_eq!(
        edited["status"]["currentDeployment"], deployment,
        "no deployment started"
    );
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"TagsUpdated".to_string())
    );

    // Two resync periods: nothing is sent again.
    std::thread::sleep(Duration::from_secs(8));
    let stats = env.sim.stats();
    assert_eq!(stats.calls("ecs:TagResource"), 1, "{:?}", stats.calls);
    assert_eq!(stats.calls("ecs:UntagResource"), 1, "{:?}", stats.calls);
    assert_eq!(configuration_calls(&env.sim), 0, "{:?}", stats.calls);

    // Someone changes a tag that the spec names: the next resync sets it back, and only it.
    ecs_tag(&env.sim, &arn, "team", "hijacked").await;
    support::controller::eventually(Duration::from_secs(30), "the tag set back", || {
        let stats = env.sim.stats();
        (stats.outcome("ecs:TagResource:ok") == 3).then_some(())
    });
    let tags = ecs_tags(&env.sim, &arn).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"), "{tags:?}");
    assert_eq!(
        tags.get("cost-tool").map(String::as_str),
        Some("tracked"),
        "{tags:?}"
    );
    assert_eq!(env.sim.stats().calls("ecs:UntagResource"), 1);
    assert_eq!(configuration_calls(&env.sim), 0);
    assert!(
        env.cluster
            .event_reasons(&env.ns, "web")
            .contains(&"TagDriftCorrected".to_string())
    );

    // Dropping every tag removes runway's, never the others'.
    m["spec"].as_object_mut().expect("spec").remove("tags");
    env.cluster.apply(&env.ns, &m);
    env.wait_for("web", "no tags applied", false, |o| {
        applied_tags(o) == json!({}) && is_true(o, "Ready")
    });
    let tags = ecs_tags(&env.sim, &arn).await;
    assert!(
        !tags.contains_key("team") && !tags.contains_key("cost-centre"),
        "{tags:?}"
    );
    assert!(
        tags.contains_key("cost-tool") && tags.contains_key("runway.dev/owner"),
        "{tags:?}"
    );
    assert_eq!(configuration_calls(&env.sim), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_runner_tag_edit_reads_once_sends_only_tag_calls_and_starts_no_operation() {
    let env = Env::new("t-arsvc", ARSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut m = app_runner(
        "catalog",
        json!([{"key": "team", "value": "api"}, {"key": "env", "value": "prod"}]),
    );
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("catalog");
    assert_eq!(applied_tags(&ready), json!({"env": "prod", "team": "api"}));
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    let operation = ready["status"]["operationId"].clone();
    let tag = aws_sdk_apprunner::types::Tag::builder()
        .key("cost-tool")
        .value("tracked")
        .build();
    apprunner_client(&env.sim.endpoint())
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag)
        .send()
        .await
        .expect("TagResource by someone else");
    env.sim.reset_stats();

    m["spec"]["tags"] = json!([{"key": "team", "value": "payments"}, {"key": "cost-centre", "value": "42"}]);
    env.cluster.apply(&env.ns, &m);
    let edited = env.wait_for("catalog", "the new tags applied", false, |o| {
        applied_tags(o) == json!({"cost-centre": "42", "team": "payments"}) && is_true(o, "Ready")
    });
    let tags = apprunner_tags(&env.sim, &arn).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"), "{tags:?}");
    assert_eq!(
        tags.get("cost-centre").map(String::as_str),
        Some("42"),
        "{tags:?}"
    );
    assert!(!tags.contains_key("env"), "{tags:?}");
    assert_eq!(
        tags.get("cost-tool").map(String::as_str),
        Some("tracked"),
        "{tags:?}"
    );
    assert!(tags.contains_key("runway.dev/owner"), "{tags:?}");
    assert_eq!(edited["status"]["operationId"], operation, "no operation started");
    assert_eq!(edited["status"]["status"], "RUNNING");

    // Two resync periods: the tags are not read or sent again, and no configuration call went out.
    // NB: a reconcile that reads the cache before it holds the status just written may read the
    // tags once more (and then sends nothing); after that, a settled service reads them no more.
    let reads = env.sim.stats().calls("apprunner:ListTagsForResource");
    assert!(
        (1..=2).contains(&reads),
        "{reads} ListTagsForResource calls for one edit"
    );
    std::thread::sleep(Duration::from_secs(8));
    let stats = env.sim.stats();
    assert_eq!(
        stats.calls("apprunner:ListTagsForResource"),
        reads,
        "{:?}",
        stats.calls
    );
    assert_eq!(stats.outcome("apprunner:TagResource:ok"), 1, "{:?}", stats.calls);
    assert_eq!(
        stats.outcome("apprunner:UntagResource:ok"),
        1,
        "{:?}",
        stats.calls
    );
    assert_eq!(stats.calls("apprunner:TagResource"), 1, "{:?}", stats.calls);
    assert_eq!(configuration_calls(&env.sim), 0, "{:?}", stats.calls);
    assert!(
        env.cluster
            .event_reasons(&env.ns, "catalog")
            .contains(&"TagsUpdated".to_string())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_change_aws_rejects_stalls_with_its_message_and_is_not_retried_in_a_loop() {
    let env = Env::new("t-reject", XSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut m = express("web", json!([{"key": "team", "value": "web"}]));
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("web");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    // Others fill the service up to AWS's 50 tags (team and runway.dev/owner are two of them).
    for i in 0..48 {
        ecs_tag(&env.sim, &arn, &format!("other-{i}"), "x").await;
    }
    env.sim.reset_stats();

    m["spec"]["tags"] = json!([{"key": "team", "value": "web"}, {"key": "cost-centre", "value": "42"}]);
    env.cluster.apply(&env.ns, &m);
    let stalled = env.wait_for("web", "Stalled by the rejected tag change", false, |o| {
        is_true(o, "Stalled")
    });
    let (_, reason, message) = condition(&stalled, "Stalled").expect("Stalled");
    assert_eq!(reason, "AwsRejectedTags");
    assert!(message.contains("TagResource failed"), "{message}");
    assert_eq!(applied_tags(&stalled), json!({"team": "web"}));

    // Backoff: one resync, then two. Over 8 s at most two more tries, never a loop. NB: the SDK
    // itself retries LimitExceededException (it is on its list of throttling codes), so one try of
    // runway's is up to three calls.
    let first = env.sim.stats().calls("ecs:TagResource");
    std::thread::sleep(Duration::from_secs(8));
    let obj = env.get("web").expect("object");
    let attempts = obj["status"]["tagRejection"]["attempts"]
        .as_u64()
        .unwrap_or_default();
    assert!(
        (1..=3).contains(&attempts),
        "{attempts} tries in 8 s: {}",
        obj["status"]
    );
    let calls = env.sim.stats().calls("ecs:TagResource");
    assert!(calls - first <= 6, "{} TagResource calls in 8 s", calls - first);
    assert_eq!(configuration_calls(&env.sim), 0);

    // Room is made and a new try is asked for: the tag goes on, and the resource is Ready again.
    let client = ecs_client(&env.sim.endpoint());
    client
        .untag_resource()
        .resource_arn(&arn)
        .tag_keys("other-0")
        .send()
        .await
        .expect("UntagResource by someone else");
    env.cluster.kubectl_ok(
        &[
            "annotate",
            XSVC,
            "web",
            "-n",
            &env.ns,
            "runway.dev/reconcile-requested-at=room-made",
        ],
        None,
    );
    env.wait_for("web", "Ready with the new tag", false, |o| {
        is_true(o, "Ready") && applied_tags(o) == json!({"cost-centre": "42", "team": "web"})
    });
    assert_eq!(
        ecs_tags(&env.sim, &arn)
            .await
            .get("cost-centre")
            .map(String::as_str),
        Some("42")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_reread_asked_with_a_spec_change_still_happens_after_the_update() {
    let env = Env::new("t-reread", ARSVC).await;
    let _runway = env.runway_with(short_resync());
    let mut m = app_runner("ledger", json!([{"key": "team", "value": "api"}]));
    env.cluster.apply(&env.ns, &m);
    let ready = env.wait_ready("ledger");
    let arn = ready["status"]["serviceArn"].as_str().expect("arn").to_string();
    // Someone changes runway's tag in AWS; App Runner's DescribeService does not show tags, so
    // only a re-read finds it.
    let tag = aws_sdk_apprunner::types::Tag::builder()
        .key("team")
        .value("someone-else")
        .build();
    apprunner_client(&env.sim.endpoint())
        .tag_resource()
        .resource_arn(&arn)
        .tags(tag)
        .send()
        .await
        .expect("TagResource by someone else");

    // One edit both changes the image (an UpdateService, after which the tag step waits) and asks
    // for a re-read.
    m["metadata"]["annotations"] = json!({"runway.dev/reconcile-requested-at": "reread-1"});
    m["spec"]["sourceConfiguration"]["imageRepository"]["imageIdentifier"] =
        json!("public.ecr.aws/nginx/nginx:1.28");
    env.cluster.apply(&env.ns, &m);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        env.sim.advance(61.0);
        let tags = apprunner_tags(&env.sim, &arn).await;
        if tags.get("team").map(String::as_str) == Some("api") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the drifted tag was not corrected after the update: {tags:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = env.wait_ready("ledger");
    assert_eq!(
        done["status"]["tagsRequestedAt"], "reread-1",
        "{}",
        done["status"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_runner_tag_change_whose_result_went_unrecorded_is_read_back_after_the_spec_reverts() {
    let env = Env::new("t-unrec", ARSVC).await;
    let mut m = app_runner("orders", json!([{"key": "team", "value": "api"}]));
    let arn = {
        let _runway = env.runway_with(short_resync());
        env.cluster.apply(&env.ns, &m);
        let ready = env.wait_ready("orders");
        assert_eq!(applied_tags(&ready), json!({"team": "api"}));
        ready["status"]["serviceArn"].as_str().expect("arn").to_string()
    };

    // The tag calls reach AWS, then the process stops before it records them.
    let mut crashing = env.runway_with(Options {
        env: vec![("RUNWAY_FAILPOINT".into(), "exit-after-tags".into())],
        ..short_resync()
    });
    m["spec"]["tags"] = json!([{"key": "team", "value": "payments"}, {"key": "extra", "value": "1"}]);
    env.cluster.apply(&env.ns, &m);
    let code = crashing.wait_exit(WAIT);
    assert_eq!(
        code,
        Some(86),
        "the failpoint ended the process: {}",
        crashing.log_tail()
    );
    let tags = apprunner_tags(&env.sim, &arn).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"), "{tags:?}");
    let obj = env.get("orders").expect("object");
    assert_eq!(applied_tags(&obj), json!({"team": "api"}), "{}", obj["status"]);

    // The spec goes back to what status.appliedTags records; AWS still holds the change.
    m["spec"]["tags"] = json!([{"key": "team", "value": "api"}]);
    env.cluster.apply(&env.ns, &m);
    let _runway = env.runway_with(short_resync());
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let tags = apprunner_tags(&env.sim, &arn).await;
        if tags.get("team").map(String::as_str) == Some("api") && !tags.contains_key("extra") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "AWS kept the unrecorded change: {tags:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let done = env.wait_for("orders", "the marker cleared", false, |o| {
        o["status"]["tagsPending"].is_null() && is_true(o, "Ready")
    });
    assert_eq!(applied_tags(&done), json!({"team": "api"}), "{}", done["status"]);
    assert_eq!(
        configuration_calls(&env.sim),
        1,
        "only the create: {:?}",
        env.sim.stats().calls
    );
}

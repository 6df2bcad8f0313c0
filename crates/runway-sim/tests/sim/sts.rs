//! STS and accounts through the real SDKs: aws-config's `AssumeRoleProvider` assuming roles in two
//! accounts, GetCallerIdentity, trust policies and external IDs, expiring session credentials, and
//! ECS and App Runner scoped to the caller's account.

use std::time::{Duration, SystemTime};

use aws_sdk_apprunner::types::{ImageRepository, ImageRepositoryType, SourceConfiguration};
use aws_sdk_ecs::config::IdentityCache;
use aws_sdk_ecs::error::ProvideErrorMetadata;
use aws_sdk_ecs::types::ExpressGatewayContainer;
use runway_sim::client::{
    ClientOptions, apprunner_client, apprunner_client_with_credentials, assume_role_provider, credentials,
    ecs_client, ecs_client_with_credentials, fake_credentials, http_client, sdk_config,
};
use runway_sim::{RoleConfig, SimConfig, SimHandle, Simulator};
use serde_json::json;

use super::common::{STAGE_SECONDS, http};

const DEFAULT_ACCOUNT: &str = "123456789012";
const ACCOUNT_A: &str = "210987654321";
const ACCOUNT_B: &str = "345678901234";
const TEAM_A: &str = "arn:aws:iam::210987654321:role/runway-team-a";
const TEAM_B: &str = "arn:aws:iam::345678901234:role/runway-team-b";

/// A simulator with minute-long stages, the two team roles (trusting the default account) and the
/// given credential cap.
async fn start_with(roles: Vec<RoleConfig>, sts_credential_seconds: Option<u64>) -> SimHandle {
    Simulator::start(SimConfig {
        roles,
        sts_credential_seconds,
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

async fn start_two_teams() -> SimHandle {
    start_with(vec![RoleConfig::new(TEAM_A), RoleConfig::new(TEAM_B)], None).await
}

/// An STS client signing as `access_key` (a principal of the default account).
async fn sts_as(sim: &SimHandle, access_key: &str) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(&sim.endpoint(), credentials(access_key)).await)
}

async fn create_express(ecs: &aws_sdk_ecs::Client, account: &str, name: &str) -> String {
    let out = ecs
        .create_express_gateway_service()
        .service_name(name)
        .infrastructure_role_arn(format!("arn:aws:iam::{account}:role/ecsInfrastructureRole"))
        .primary_container(
            ExpressGatewayContainer::builder()
                .image("public.ecr.aws/nginx/nginx:1.27")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create succeeds");
    out.service().unwrap().service_arn().unwrap().to_string()
}

async fn create_apprunner(apprunner: &aws_sdk_apprunner::Client, name: &str) -> String {
    let source = SourceConfiguration::builder()
        .image_repository(
            ImageRepository::builder()
                .image_identifier("public.ecr.aws/nginx/nginx:1.27")
                .image_repository_type(ImageRepositoryType::EcrPublic)
                .build()
                .unwrap(),
        )
        .build();
    let out = apprunner
        .create_service()
        .service_name(name)
        .source_configuration(source)
        .send()
        .await
        .expect("create succeeds");
    out.service().unwrap().service_arn().to_string()
}

#[tokio::test]
async fn services_created_through_two_roles_live_in_their_own_accounts() {
    let sim = start_two_teams().await;
    let endpoint = sim.endpoint();
    let options = ClientOptions::default();
    let team_a = assume_role_provider(&endpoint, TEAM_A, None).await;
    let team_b = assume_role_provider(&endpoint, TEAM_B, None).await;
    let ecs_a = ecs_client_with_credentials(&endpoint, &options, team_a);
    let ecs_b = ecs_client_with_credentials(&endpoint, &options, team_b);
    let ecs_default = ecs_client(&endpoint);

    // The same name in each account: names are unique per account, not across accounts.
    let arn_a = create_express(&ecs_a, ACCOUNT_A, "web").await;
    let arn_b = create_express(&ecs_b, ACCOUNT_B, "web").await;
    assert_eq!(arn_a, "arn:aws:ecs:us-east-1:210987654321:service/default/web");
    assert_eq!(arn_b, "arn:aws:ecs:us-east-1:345678901234:service/default/web");
    let described = ecs_a
        .describe_express_gateway_service()
        .service_arn(&arn_a)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.service().unwrap().cluster(),
        Some("arn:aws:ecs:us-east-1:210987654321:cluster/default")
    );

    // Another account's ARN: IAM refuses it before ECS looks.
    let error = ecs_b
        .describe_express_gateway_service()
        .service_arn(&arn_a)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("AccessDeniedException"));
    let message = error.message().unwrap();
    assert!(
        message.starts_with("User: arn:aws:sts::345678901234:assumed-role/runway-team-b/runway "),
        "{message}"
    );
    assert!(
        message.contains(&format!("ecs:DescribeExpressGatewayService on resource: {arn_a}")),
        "{message}"
    );
    let error = ecs_default
        .describe_services()
        .services(&arn_b)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("AccessDeniedException"));

    // By name, each account sees its own service; the default account has none.
    let mine = ecs_b.describe_services().services("web").send().await.unwrap();
    assert_eq!(mine.services()[0].service_arn(), Some(arn_b.as_str()));
    let theirs = ecs_default
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();
    assert!(theirs.services().is_empty());
    assert_eq!(
        theirs.failures()[0].arn(),
        Some("arn:aws:ecs:us-east-1:123456789012:service/default/web")
    );

    // App Runner: names per account and Region, ListServices per account.
    let apprunner_a = apprunner_client_with_credentials(
        &endpoint,
        &options,
        assume_role_provider(&endpoint, TEAM_A, None).await,
    );
    let apprunner_default = apprunner_client(&endpoint);
    let runner_a = create_apprunner(&apprunner_a, "web-app").await;
    let runner_default = create_apprunner(&apprunner_default, "web-app").await;
    assert!(runner_a.starts_with("arn:aws:apprunner:us-east-1:210987654321:service/web-app/"));
    assert!(runner_default.starts_with("arn:aws:apprunner:us-east-1:123456789012:service/web-app/"));
    let listed = apprunner_a.list_services().send().await.unwrap();
    let arns: Vec<_> = listed
        .service_summary_list()
        .iter()
        .map(|s| s.service_arn().unwrap_or_default())
        .collect();
    assert_eq!(arns, [runner_a.as_str()]);
    let error = apprunner_default
        .describe_service()
        .service_arn(&runner_a)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_apprunner::error::ProvideErrorMetadata::code(&error),
        Some("AccessDeniedException")
    );

    // The stats say which account every call went to.
    let stats = sim.stats();
    let create = "ecs:CreateExpressGatewayService";
    assert_eq!(stats.account_calls(ACCOUNT_A, create), 1);
    assert_eq!(stats.account_calls(ACCOUNT_B, create), 1);
    assert_eq!(stats.account_calls(DEFAULT_ACCOUNT, create), 0);
    assert_eq!(stats.account_calls(DEFAULT_ACCOUNT, "sts:AssumeRole"), 3);
    assert_eq!(stats.account_calls(ACCOUNT_A, "apprunner:CreateService"), 1);
    assert_eq!(stats.account_calls(DEFAULT_ACCOUNT, "apprunner:CreateService"), 1);
    assert_eq!(
        stats.outcome("ecs:DescribeExpressGatewayService:AccessDeniedException"),
        1
    );
}

#[tokio::test]
async fn get_caller_identity_names_the_principal_and_its_account() {
    let sim = start_two_teams().await;
    let endpoint = sim.endpoint();
    let default = sts_as(&sim, "AKIDSIMULATOR").await;
    let me = default.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some(DEFAULT_ACCOUNT));
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/AKIDSIMULATOR"));
    assert_eq!(me.user_id(), Some("AKIDSIMULATOR"));

    let team_a = assume_role_provider(&endpoint, TEAM_A, None).await;
    let as_team_a = aws_sdk_sts::Client::new(&sdk_config(&endpoint, team_a).await);
    let role = as_team_a.get_caller_identity().send().await.unwrap();
    assert_eq!(role.account(), Some(ACCOUNT_A));
    assert_eq!(
        role.arn(),
        Some("arn:aws:sts::210987654321:assumed-role/runway-team-a/runway")
    );
    let user_id = role.user_id().unwrap();
    assert!(
        user_id.starts_with("AROA") && user_id.ends_with(":runway"),
        "{user_id}"
    );

    let assumed = default
        .assume_role()
        .role_arn(TEAM_B)
        .role_session_name("ns-b")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let credentials = assumed.credentials().unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    assert_eq!(credentials.access_key_id().len(), 20);
    assert!(!credentials.session_token().is_empty());
    let expires = SystemTime::try_from(*credentials.expiration()).unwrap();
    let lifetime = expires.duration_since(SystemTime::now()).unwrap();
    assert!(
        lifetime > Duration::from_secs(890) && lifetime <= Duration::from_secs(901),
        "{lifetime:?}"
    );
    let user = assumed.assumed_role_user().unwrap();
    assert_eq!(
        user.arn(),
        "arn:aws:sts::345678901234:assumed-role/runway-team-b/ns-b"
    );
    assert!(user.assumed_role_id().ends_with(":ns-b"));

    let stats = sim.stats();
    assert_eq!(stats.calls("sts:GetCallerIdentity"), 2);
    assert_eq!(stats.account_calls(ACCOUNT_A, "sts:GetCallerIdentity"), 1);
    assert_eq!(stats.outcome("sts:AssumeRole:ok"), 2);
}

#[tokio::test]
async fn untrusted_callers_and_wrong_external_ids_are_access_denied() {
    let sim = start_with(
        vec![RoleConfig {
            trust: vec!["arn:aws:iam::123456789012:user/controller".into()],
            external_id: Some("xyz".into()),
            ..RoleConfig::new(TEAM_A)
        }],
        None,
    )
    .await;
    let controller = sts_as(&sim, "controller").await;
    let stranger = sts_as(&sim, "stranger").await;
    let assume = |client: &aws_sdk_sts::Client, role: &str, external_id: Option<&str>| {
        client
            .assume_role()
            .role_arn(role)
            .role_session_name("runway")
            .set_external_id(external_id.map(String::from))
            .send()
    };
    assume(&controller, TEAM_A, Some("xyz")).await.unwrap();
    for (client, role, external_id, who) in [
        (&stranger, TEAM_A, Some("xyz"), "stranger"),
        (&controller, TEAM_A, Some("abc"), "controller"),
        (&controller, TEAM_A, None, "controller"),
        (&controller, TEAM_B, None, "controller"),
    ] {
        let error = assume(client, role, external_id).await.unwrap_err();
        let error = error.into_service_error();
        assert_eq!(
            aws_sdk_sts::error::ProvideErrorMetadata::code(&error),
            Some("AccessDenied")
        );
        assert_eq!(
            aws_sdk_sts::error::ProvideErrorMetadata::message(&error),
            Some(
                format!(
                    "User: arn:aws:iam::123456789012:user/{who} is not authorized to perform: \
                     sts:AssumeRole on resource: {role}"
                )
                .as_str()
            )
        );
    }

    // The SDK's provider surfaces the refusal as a credentials error on the ECS call.
    let endpoint = sim.endpoint();
    let wrong = assume_role_provider(&endpoint, TEAM_A, Some("abc")).await;
    let ecs = ecs_client_with_credentials(&endpoint, &ClientOptions::default(), wrong);
    let error = ecs.describe_services().services("web").send().await.unwrap_err();
    let text = format!("{}", aws_sdk_ecs::error::DisplayErrorContext(&error));
    assert!(text.contains("AccessDenied"), "{text}");

    // The model's constraints come before the trust policy.
    let invalid = controller
        .assume_role()
        .role_arn(TEAM_A)
        .role_session_name("team/a")
        .duration_seconds(60)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&invalid),
        Some("ValidationError")
    );
    let message = aws_sdk_sts::error::ProvideErrorMetadata::message(&invalid).unwrap();
    assert!(message.starts_with("2 validation errors detected: "), "{message}");
    let stats = sim.stats();
    assert_eq!(stats.outcome("sts:AssumeRole:AccessDenied"), 5);
    assert_eq!(stats.outcome("sts:AssumeRole:ValidationError"), 1);
}

#[tokio::test]
async fn expired_keys_get_expired_token_while_the_sdk_provider_refreshes_in_time() {
    let sim = start_with(vec![RoleConfig::new(TEAM_A)], Some(2)).await;
    let endpoint = sim.endpoint();

    // Credentials taken once and kept: they stop working when they expire.
    let assumed = sts_as(&sim, "AKIDSIMULATOR")
        .await
        .assume_role()
        .role_arn(TEAM_A)
        .role_session_name("kept")
        .send()
        .await
        .unwrap();
    let kept = assumed.credentials().unwrap();
    let expires = SystemTime::try_from(*kept.expiration()).unwrap();
    let lifetime = expires.duration_since(SystemTime::now()).unwrap();
    assert!(
        lifetime <= Duration::from_secs(3),
        "capped by --sts-credential-seconds: {lifetime:?}"
    );
    // NB: no expiry on the static keys, so the client sends them as they are once expired.
    let static_keys = aws_sdk_ecs::config::Credentials::new(
        kept.access_key_id(),
        kept.secret_access_key(),
        Some(kept.session_token().to_string()),
        None,
        "kept",
    );
    let options = ClientOptions::default();
    let ecs_kept = ecs_client_with_credentials(&endpoint, &options, static_keys.clone());
    let sts_kept = aws_sdk_sts::Client::new(&sdk_config(&endpoint, static_keys).await);
    ecs_kept.describe_services().services("web").send().await.unwrap();

    // The SDK's provider, with a refresh buffer shorter than the lifetime, asks again in time.
    let provider = assume_role_provider(&endpoint, TEAM_A, None).await;
    let config = aws_sdk_ecs::Config::builder()
        .behavior_version_latest()
        .endpoint_url(&endpoint)
        .region(aws_sdk_ecs::config::Region::new("us-east-1"))
        .credentials_provider(provider)
        .identity_cache(
            IdentityCache::lazy()
                .buffer_time(Duration::from_millis(500))
                .build(),
        )
        .http_client(http_client())
        .build();
    let ecs_refreshing = aws_sdk_ecs::Client::from_conf(config);
    ecs_refreshing
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();
    ecs_refreshing
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();

    // NB: the refreshing client's credentials were issued a moment later and may expire a second
    // later (expirations are whole seconds), so wait until both have expired.
    let wait = expires.duration_since(SystemTime::now()).unwrap_or_default() + Duration::from_millis(1200);
    tokio::time::sleep(wait).await;

    let error = ecs_kept
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("ExpiredTokenException"));
    assert_eq!(
        error.message(),
        Some("The security token included in the request is expired")
    );
    assert_eq!(error.raw_response().unwrap().status().as_u16(), 403);
    let error = sts_kept.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&error),
        Some("ExpiredToken")
    );
    ecs_refreshing
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();

    let stats = sim.stats();
    assert_eq!(stats.outcome("ecs:DescribeServices:ExpiredTokenException"), 1);
    assert_eq!(stats.outcome("sts:GetCallerIdentity:ExpiredToken"), 1);
    // One AssumeRole for the kept keys, two for the refreshing client: one at its first call (the
    // second call used the cached credentials) and one after they expired.
    assert_eq!(stats.outcome("sts:AssumeRole:ok"), 3);
    assert_eq!(stats.account_calls(ACCOUNT_A, "ecs:DescribeServices"), 5);
    // Expiry is wall-clock time: simulated time does not touch fresh credentials.
    sim.advance(86_400.0);
    ecs_refreshing
        .describe_services()
        .services("web")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn roles_and_the_credential_cap_are_set_by_control_endpoint_and_reset_to_the_flags() {
    let sim = start_with(vec![RoleConfig::new(TEAM_A)], None).await;
    let (status, stored) = http(
        &sim,
        "POST",
        "/_sim/roles",
        Some(json!({"arn": TEAM_B, "externalId": "xyz", "maxSessionSeconds": 7200})),
    )
    .await;
    assert_eq!(status, 200, "{stored}");
    assert_eq!(stored["trust"], json!([DEFAULT_ACCOUNT]));
    let (_, listed) = http(&sim, "GET", "/_sim/roles", None).await;
    let arns: Vec<_> = listed["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["arn"].as_str().unwrap())
        .collect();
    assert_eq!(arns, [TEAM_A, TEAM_B]);
    for bad in [
        json!({"arn": "arn:aws:iam::1:role/x"}),
        json!({"arn": TEAM_B, "trust": ["somebody"]}),
        json!({"arn": TEAM_B, "maxSessionSeconds": 60}),
        json!({"arn": TEAM_B, "colour": "blue"}),
    ] {
        assert_eq!(
            http(&sim, "POST", "/_sim/roles", Some(bad.clone())).await.0,
            400,
            "{bad}"
        );
    }
    let sts = sts_as(&sim, "AKIDSIMULATOR").await;
    let long = sts
        .assume_role()
        .role_arn(TEAM_B)
        .role_session_name("long")
        .external_id("xyz")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    assert_eq!(
        long.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::345678901234:assumed-role/runway-team-b/long"
    );

    let (status, body) = http(&sim, "POST", "/_sim/sts", Some(json!({"credentialSeconds": 30}))).await;
    assert_eq!((status, body), (200, json!({"credentialSeconds": 30})));
    assert_eq!(sim.sts_credential_seconds(), Some(30));
    assert_eq!(
        http(&sim, "POST", "/_sim/sts", Some(json!({"credentialSeconds": 0})))
            .await
            .0,
        400
    );
    let short = sts
        .assume_role()
        .role_arn(TEAM_A)
        .role_session_name("short")
        .send()
        .await
        .unwrap();
    let expires = SystemTime::try_from(*short.credentials().unwrap().expiration()).unwrap();
    assert!(expires.duration_since(SystemTime::now()).unwrap() <= Duration::from_secs(31));

    // A full reset restores the flags: team B is gone, the cap is off.
    assert_eq!(
        http(&sim, "POST", "/_sim/reset", Some(json!({"state": true})))
            .await
            .0,
        200
    );
    assert_eq!(sim.roles().len(), 1);
    assert_eq!(
        http(&sim, "GET", "/_sim/sts", None).await.1,
        json!({"credentialSeconds": null})
    );
    let gone = sts
        .assume_role()
        .role_arn(TEAM_B)
        .role_session_name("again")
        .external_id("xyz")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&gone.into_service_error()),
        Some("AccessDenied")
    );

    // The in-process knobs do the same.
    sim.add_role(RoleConfig::new(TEAM_B)).unwrap();
    assert!(sim.add_role(RoleConfig::new("arn:aws:iam::1:role/x")).is_err());
    sim.set_sts_credential_seconds(Some(60)).unwrap();
    assert!(sim.set_sts_credential_seconds(Some(0)).is_err());
    assert_eq!(sim.roles().len(), 2);
    assert_eq!(sim.account_id(), DEFAULT_ACCOUNT);
}

#[tokio::test]
async fn unknown_temporary_keys_are_unrecognized_and_callers_without_roles_keep_the_default_account() {
    let sim = start_two_teams().await;
    let endpoint = sim.endpoint();
    let forged = credentials("ASIAAAAAAAAAAAAAAAAA");
    let ecs = ecs_client_with_credentials(&endpoint, &ClientOptions::default(), forged.clone());
    let error = ecs.describe_services().services("web").send().await.unwrap_err();
    assert_eq!(error.code(), Some("UnrecognizedClientException"));
    let sts = aws_sdk_sts::Client::new(&sdk_config(&endpoint, forged).await);
    let error = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&error),
        Some("InvalidClientTokenId")
    );

    let default = ecs_client_with_credentials(&endpoint, &ClientOptions::default(), fake_credentials());
    let arn = create_express(&default, DEFAULT_ACCOUNT, "web").await;
    assert_eq!(arn, "arn:aws:ecs:us-east-1:123456789012:service/default/web");
    let stats = sim.stats();
    assert_eq!(
        stats.account_calls(DEFAULT_ACCOUNT, "ecs:CreateExpressGatewayService"),
        1
    );
    assert_eq!(
        stats.outcome("ecs:DescribeServices:UnrecognizedClientException"),
        1
    );
    assert_eq!(stats.calls("ecs:DescribeServices"), 1);
    assert!(
        stats
            .by_account
            .values()
            .all(|calls| !calls.contains_key("ecs:DescribeServices"))
    );
}

#[tokio::test]
async fn the_session_name_source_identity_and_tags_of_each_assume_role_are_recorded() {
    let sim = start_two_teams().await;
    let sts = sts_as(&sim, "AKIDSIMULATOR").await;
    sts.assume_role()
        .role_arn(TEAM_A)
        .role_session_name("prod@team-a")
        .source_identity("prod@team-a")
        .tags(
            aws_sdk_sts::types::Tag::builder()
                .key("runway.dev/namespace")
                .value("team-a")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // aws-config's provider, as runway assumes roles, with its session name.
    let provider = aws_config::sts::AssumeRoleProvider::builder(TEAM_B)
        .session_name("prod@team-b")
        .tags([("runway.dev/cluster", "prod")])
        .configure(&sdk_config(&sim.endpoint(), fake_credentials()).await)
        .build()
        .await;
    let as_team_b = aws_sdk_sts::Client::new(&sdk_config(&sim.endpoint(), provider).await);
    as_team_b.get_caller_identity().send().await.unwrap();

    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(
        (sessions[0].role_arn.as_str(), sessions[0].session_name.as_str()),
        (TEAM_A, "prod@team-a")
    );
    assert_eq!(sessions[0].source_identity.as_deref(), Some("prod@team-a"));
    assert_eq!(sessions[0].tags["runway.dev/namespace"], "team-a");
    assert_eq!(
        sessions[0].caller_arn,
        "arn:aws:iam::123456789012:user/AKIDSIMULATOR"
    );
    assert_eq!(sessions[1].session_name, "prod@team-b");
    assert_eq!(sessions[1].tags["runway.dev/cluster"], "prod");
    assert_eq!(sessions[1].source_identity, None);

    let (status, listed) = http(&sim, "GET", "/_sim/sessions", None).await;
    assert_eq!(status, 200);
    assert_eq!(listed["sessions"][1]["roleArn"], TEAM_B);
    assert_eq!(listed["sessions"][1]["sessionName"], "prod@team-b");
    assert_eq!(listed["sessions"][0]["tags"]["runway.dev/namespace"], "team-a");
    // A reset of the counters forgets the log too.
    sim.reset_stats();
    assert!(sim.sessions().is_empty());
}

//! The IAM actions runway calls, listed beside the adapters that call them (docs/aws-behaviour.md
//! X9). `deploy/helm/runway/iam-policy.json` (shown in docs/install.md) must allow every action in
//! [`CONTROLLER`]; `tests/iam_policy.rs` fails when an SDK call in `src/` is missing here, when an
//! action here is no longer called, or when the policy and this list disagree.
//!
//! Besides these actions, the policy lets runway pass the roles a spec names (`iam:PassRole`, to
//! the service that uses them: [`PASSED_TO`]) and lets ECS and App Runner create their
//! service-linked roles on first use in an account (`iam:CreateServiceLinkedRole`:
//! [`SERVICE_LINKED_ROLES`]).

/// The actions `runway run` calls, as IAM names them (`service:Action`).
pub const CONTROLLER: &[&str] = &[
    // ECS Express Mode (src/aws/ecs.rs).
    "ecs:CreateExpressGatewayService",
    "ecs:UpdateExpressGatewayService",
    "ecs:DescribeExpressGatewayService",
    "ecs:DeleteExpressGatewayService",
    "ecs:UpdateService",
    "ecs:DescribeServices",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:ListTagsForResource",
    // App Runner (src/aws/apprunner.rs).
    "apprunner:CreateService",
    "apprunner:UpdateService",
    "apprunner:DescribeService",
    "apprunner:DeleteService",
    "apprunner:ListServices",
    "apprunner:ListOperations",
    "apprunner:PauseService",
    "apprunner:ResumeService",
    "apprunner:StartDeployment",
    "apprunner:TagResource",
    "apprunner:UntagResource",
    "apprunner:ListTagsForResource",
    // STS (src/aws/mod.rs): the role a Namespace names, with session tags when configured.
    "sts:AssumeRole",
    "sts:TagSession",
];

/// Actions only the `runway migrate apprunner --resolve` command calls, with
/// `apprunner:DescribeService` (src/migrate/run.rs); the controller needs none of them.
pub const MIGRATE_ONLY: &[&str] = &[
    "apprunner:DescribeAutoScalingConfiguration",
    "apprunner:DescribeVpcConnector",
];

/// Actions runway calls that no policy has to allow: "No permissions are required to perform this
/// operation" (STS API reference, GetCallerIdentity).
pub const NO_PERMISSION_NEEDED: &[&str] = &["sts:GetCallerIdentity"];

/// The services runway passes roles to, as the condition key `iam:PassedToService` names them: ECS
/// Express's execution and task roles go to `ecs-tasks.amazonaws.com`, its infrastructure role to
/// `ecs.amazonaws.com`, App Runner's access and instance roles to `apprunner.amazonaws.com`.
pub const PASSED_TO: &[&str] = &[
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "apprunner.amazonaws.com",
];

/// The service-linked roles the first service of each kind in an account creates, as the
/// condition key `iam:AWSServiceName` names their services: `AWSServiceRoleForECS` and
/// `AWSServiceRoleForAppRunner`.
pub const SERVICE_LINKED_ROLES: &[&str] = &["ecs.amazonaws.com", "apprunner.amazonaws.com"];

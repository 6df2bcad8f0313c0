//! The `ExpressService` custom resource: an Amazon ECS Express Mode service.
//!
//! The spec mirrors the `CreateExpressGatewayService` / `UpdateExpressGatewayService` request shapes in
//! camelCase, with AWS's documentation on each field, plus the controller-owned fields `region`,
//! `serviceArn`, `deletionPolicy` and `redeployToken`. Rules that AWS enforces are CEL rules here, so a
//! bad manifest is rejected at `kubectl apply` time.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, Tag};

/// Fargate task sizes: each CPU value and the memory values (MiB) it accepts.
const FARGATE_SIZES: &str = "!has(self.cpu) || !has(self.memory) || \
(self.cpu == '256' && self.memory in ['512', '1024', '2048']) || \
(self.cpu == '512' && int(self.memory) >= 1024 && int(self.memory) <= 4096 && int(self.memory) % 1024 == 0) || \
(self.cpu == '1024' && int(self.memory) >= 2048 && int(self.memory) <= 8192 && int(self.memory) % 1024 == 0) || \
(self.cpu == '2048' && int(self.memory) >= 4096 && int(self.memory) <= 16384 && int(self.memory) % 1024 == 0) || \
(self.cpu == '4096' && int(self.memory) >= 8192 && int(self.memory) <= 30720 && int(self.memory) % 1024 == 0) || \
(self.cpu == '8192' && int(self.memory) >= 16384 && int(self.memory) <= 61440 && int(self.memory) % 4096 == 0) || \
(self.cpu == '16384' && int(self.memory) >= 32768 && int(self.memory) <= 122880 && int(self.memory) % 8192 == 0)";

/// The desired state of an Amazon ECS Express Mode service.
///
/// An Express service provisions and manages an Application Load Balancer, target groups, security
/// groups and auto-scaling policies for a containerized web application. Fields that are left unset
/// are not sent to AWS, so changes made outside runway to those settings persist.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "runway.dev",
    version = "v1alpha1",
    kind = "ExpressService",
    doc = "An Amazon ECS Express Mode service, managed by runway. See docs/expressservice.md.",
    plural = "expressservices",
    shortname = "xsvc",
    namespaced,
    status = "ExpressServiceStatus",
    category = "runway",
    validation = Rule::new("has(self.spec.serviceName) || self.metadata.name.matches('^[A-Za-z0-9_-]{1,255}$')")
        .message("metadata.name is not a valid ECS service name (letters, digits, '-' and '_' only); set spec.serviceName")
        .field_path(".spec.serviceName"),
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.statusCode"}"#,
    printcolumn = r#"{"name":"Endpoint","type":"string","jsonPath":".status.endpoint"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.serviceArn) || has(self.infrastructureRoleArn)")
        .message("infrastructureRoleArn is required to create a service; only an adopted service (serviceArn set) may omit it")
        .field_path(".infrastructureRoleArn"),
    validation = Rule::new("has(self.serviceArn) || has(self.taskDefinitionArn) || has(self.primaryContainer)")
        .message("primaryContainer is required unless taskDefinitionArn is set or serviceArn adopts an existing service")
        .field_path(".primaryContainer"),
    validation = Rule::new("has(self.serviceArn) || has(self.taskDefinitionArn) || has(self.executionRoleArn)")
        .message("executionRoleArn is required unless taskDefinitionArn is set or serviceArn adopts an existing service")
        .field_path(".executionRoleArn"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.primaryContainer)")
        .message("primaryContainer cannot be set together with taskDefinitionArn: the task definition defines the container")
        .field_path(".primaryContainer"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.executionRoleArn)")
        .message("executionRoleArn cannot be set together with taskDefinitionArn: the task definition names its roles")
        .field_path(".executionRoleArn"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.taskRoleArn)")
        .message("taskRoleArn cannot be set together with taskDefinitionArn: the task definition names its roles")
        .field_path(".taskRoleArn"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.cpu)")
        .message("cpu cannot be set together with taskDefinitionArn: the task definition fixes the task size")
        .field_path(".cpu"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.memory)")
        .message("memory cannot be set together with taskDefinitionArn: the task definition fixes the task size")
        .field_path(".memory"),
    validation = Rule::new("!has(self.taskDefinitionArn) || !has(self.cpuArchitecture)")
        .message("cpuArchitecture cannot be set together with taskDefinitionArn: the task definition fixes the platform")
        .field_path(".cpuArchitecture"),
    validation = Rule::new(FARGATE_SIZES)
        .message("memory is not a valid Fargate size for this cpu (256: 512-2048; 512: 1024-4096; 1024: 2048-8192; 2048: 4096-16384; 4096: 8192-30720, in 1024 MiB steps; 8192: 16384-61440 in 4096 steps; 16384: 32768-122880 in 8192 steps)")
        .field_path(".memory"),
    validation = Rule::new("has(self.serviceName) == has(oldSelf.serviceName)")
        .message("serviceName cannot be added or removed after creation")
        .field_path(".serviceName"),
    validation = Rule::new("has(self.cluster) == has(oldSelf.cluster)")
        .message("cluster cannot be added or removed after creation")
        .field_path(".cluster"),
    validation = Rule::new("has(self.region) == has(oldSelf.region)")
        .message("region cannot be added or removed after creation")
        .field_path(".region"),
    validation = Rule::new("has(self.infrastructureRoleArn) == has(oldSelf.infrastructureRoleArn)")
        .message("infrastructureRoleArn cannot be added or removed after creation")
        .field_path(".infrastructureRoleArn"),
    validation = Rule::new("!has(oldSelf.serviceArn) || has(self.serviceArn)")
        .message("serviceArn cannot be removed once set")
        .field_path(".serviceArn"),
    validation = Rule::new("has(oldSelf.serviceArn) || !has(self.serviceArn)")
        .message("serviceArn cannot be added after creation: runway may already manage a service for this resource; create a new resource to adopt a service")
        .field_path(".serviceArn"),
)]
pub struct ExpressServiceSpec {
    /// The AWS Region of the service. Defaults to the controller's region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("region is immutable"))]
    pub region: Option<String>,

    /// The ARN of an existing Express service to manage (adopt) instead of creating one. runway then
    /// never calls CreateExpressGatewayService for this resource, and `deletionPolicy` defaults to
    /// `Retain`. Immutable once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:service/.+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("serviceArn is immutable"))]
    pub service_arn: Option<String>,

    /// What happens to the AWS service when this resource is deleted: `Delete` removes it, `Retain`
    /// leaves it running. Defaults to `Delete` for services that runway created and `Retain` for
    /// adopted ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,

    /// An opaque string. Changing it forces a new deployment of the same configuration (ECS
    /// UpdateService with `forceNewDeployment`), for example to pick up a new image pushed under the
    /// same tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub redeploy_token: Option<String>,

    /// The name of the Express service. It must be unique within the cluster and can contain up to 255
    /// letters (uppercase and lowercase), numbers, underscores, and hyphens. Defaults to the resource's
    /// `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,255}$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("serviceName is immutable: renaming requires a new service"))]
    pub service_name: Option<String>,

    /// The short name or full Amazon Resource Name (ARN) of the cluster on which to create the Express
    /// service. If you do not specify a cluster, the default cluster is assumed. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2048))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("cluster is immutable: moving a service requires a new service"))]
    pub cluster: Option<String>,

    /// The ARN of the infrastructure role that grants Amazon ECS permission to create and manage AWS
    /// resources on your behalf for the Express service: Application Load Balancers, target groups,
    /// security groups, auto-scaling policies and other infrastructure. Required to create a service.
    /// It cannot be modified after the service is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("infrastructureRoleArn is immutable: AWS cannot change it after the service is created"))]
    pub infrastructure_role_arn: Option<String>,

    /// The ARN of the task execution role that grants the Amazon ECS container agent permission to make
    /// AWS API calls on your behalf: pulling images from Amazon ECR, sending container logs to
    /// CloudWatch Logs and retrieving secrets. Required to create a service unless `taskDefinitionArn`
    /// is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub execution_role_arn: Option<String>,

    /// The ARN of the IAM role that containers in this task can assume, so that your application code
    /// can call other AWS services. Different from the execution role, which the ECS agent uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"))]
    pub task_role_arn: Option<String>,

    /// The path on the container that the Application Load Balancer uses for health checks. It should
    /// return HTTP 200 when the application is healthy. If not specified, the default health check path
    /// is `/ping`. It must start with a forward slash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/.*$"), length(max = 1024))]
    pub health_check_path: Option<String>,

    /// The primary container configuration: the main application container that receives traffic from
    /// the Application Load Balancer. Required unless `taskDefinitionArn` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_container: Option<ExpressGatewayContainer>,

    /// The network configuration for the Express service tasks: VPC subnets and security groups. If not
    /// provided, Amazon ECS uses the default VPC and creates appropriate security groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// The number of CPU units used by the task. The default for an Express service is 256 (.25 vCPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["256", "512", "1024", "2048", "4096", "8192", "16384"]))]
    pub cpu: Option<String>,

    /// The amount of memory (in MiB) used by the task. The default for an Express service is 512 MiB.
    /// It must be a valid Fargate size for the chosen `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[1-9][0-9]{2,5}$"))]
    pub memory: Option<String>,

    /// The CPU architecture that the task runs on: `X86_64` (the default) or `ARM64`. Ensure that the
    /// container image supports it. Changing it starts a new deployment. Cannot be combined with
    /// `taskDefinitionArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<CpuArchitecture>,

    /// The auto-scaling configuration: the minimum and maximum number of tasks, the scaling metric and
    /// its target value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_target: Option<ScalingTarget>,

    /// The ARN of a task definition to use instead of `primaryContainer`, giving more control over the
    /// configuration (for example sidecar containers). The task definition must have a container named
    /// `Main` with a single TCP port mapping that includes a container port and port name, and FARGATE
    /// compatibility. If set, `primaryContainer`, `executionRoleArn`, `taskRoleArn`, `cpu`, `memory` and
    /// `cpuArchitecture` must be unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/.+$"))]
    pub task_definition_arn: Option<String>,

    /// Metadata applied to the Express service. Each tag has a unique key and an optional value. Up to
    /// 49: a resource can have 50, and runway adds its own `runway.dev/owner` tag to find the service
    /// after a crash. Keys and values may contain letters, numbers, spaces and `_ . : / = + - @`;
    /// neither may start with `aws:`, and the keys `AmazonECSManaged` (ECS's own) and `runway.dev/owner`
    /// (runway's) are refused. Tags can be changed at any time: runway sets the ones named
    /// here (TagResource) and removes only the ones it set earlier and no longer finds here
    /// (UntagResource). Tags set by others are kept. A tag change starts no deployment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 49))]
    #[x_kube(
        merge_strategy = ListMerge::Map(vec!["key".into()]),
        validation = Rule::new(r"self.all(t, t.key.matches('^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+$'))")
            .message("ECS tag keys may contain only letters, numbers, spaces and _ . : / = + - @"),
        validation = Rule::new(r"self.all(t, !has(t.value) || t.value.matches('^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$'))")
            .message("ECS tag values may contain only letters, numbers, spaces and _ . : / = + - @"),
        validation = Rule::new("self.all(t, !has(t.value) || !t.value.lowerAscii().startsWith('aws:'))")
            .message("ECS tag values starting with 'aws:' (in any case) are reserved for AWS use"),
        validation = Rule::new("self.all(t, t.key != 'AmazonECSManaged')")
            .message("AmazonECSManaged is the tag ECS sets on the resources it manages for the service; a spec may not set it")
    )]
    pub tags: Vec<Tag>,
}

/// The CPU architecture of an Express service's tasks.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[allow(non_camel_case_types)]
pub enum CpuArchitecture {
    /// The x86 64-bit architecture.
    X86_64,
    /// The 64-bit ARM architecture.
    ARM64,
}

/// The primary container of an Express service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpressGatewayContainer {
    /// The image used to start the container: `repository-url/image:tag` or
    /// `repository-url/image@digest`. Images in the Docker Hub registry are available by default. The
    /// image typically contains a web application that listens on `containerPort`.
    #[schemars(length(min = 1, max = 1024))]
    pub image: String,

    /// The port number on the container that receives traffic from the load balancer. Default is 80.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub container_port: Option<i32>,

    /// The CloudWatch Logs configuration for the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_logs_configuration: Option<AwsLogsConfiguration>,

    /// The repository credentials for private registry authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<RepositoryCredentials>,

    /// The command that is passed to the container. Order matters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,

    /// The environment variables to pass to the container. Names must be unique; order does not
    /// matter. Do not put secret values here: use `secrets`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub environment: Vec<KeyValuePair>,

    /// The secrets to pass to the container, as references to AWS Secrets Manager secrets or Systems
    /// Manager Parameter Store parameters. Names must be unique; order does not matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub secrets: Vec<Secret>,
}

/// Where the container's logs go in Amazon CloudWatch Logs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsLogsConfiguration {
    /// The name of the CloudWatch Logs log group to send container logs to.
    #[schemars(length(min = 1, max = 512))]
    pub log_group: String,
    /// The prefix for the CloudWatch Logs log stream names. The default for an Express service is
    /// `ecs`.
    #[schemars(length(min = 1, max = 512))]
    pub log_stream_prefix: String,
}

/// Credentials for a private image registry.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryCredentials {
    /// The ARN of the AWS Secrets Manager secret containing the private repository credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:secretsmanager:.+$"))]
    pub credentials_parameter: Option<String>,
}

/// An environment variable.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyValuePair {
    /// The name of the environment variable.
    #[schemars(length(min = 1, max = 1024))]
    pub name: String,
    /// The value of the environment variable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A secret exposed to the container as an environment variable.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// The name of the environment variable that receives the secret.
    #[schemars(length(min = 1, max = 1024))]
    pub name: String,
    /// The secret to expose: the full ARN of the Secrets Manager secret or the full ARN of the parameter
    /// in the SSM Parameter Store (or its name, if it is in the same Region). runway passes the
    /// reference through and never reads the value.
    #[schemars(length(min = 1, max = 2048))]
    pub value_from: String,
}

/// The VPC subnets and security groups of the tasks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// The IDs of the security groups associated with the Express service (up to 5). Order does not
    /// matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(regex(pattern = r"^sg-[0-9a-f]{8,17}$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub security_groups: Vec<String>,
    /// The IDs of the subnets associated with the Express service (up to 16). Order does not matter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16), inner(regex(pattern = r"^subnet-[0-9a-f]{8,17}$")))]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub subnets: Vec<String>,
}

/// How the service scales its number of tasks.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.minTaskCount) || !has(self.maxTaskCount) || self.minTaskCount <= self.maxTaskCount")
    .message("minTaskCount must not be greater than maxTaskCount")
    .field_path(".minTaskCount"))]
pub struct ScalingTarget {
    /// The minimum number of tasks to run in the Express service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 5000))]
    pub min_task_count: Option<i32>,
    /// The maximum number of tasks to run in the Express service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 5000))]
    pub max_task_count: Option<i32>,
    /// The metric used for auto-scaling decisions. The default for an Express service is
    /// `AVERAGE_CPU`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_metric: Option<ScalingMetric>,
    /// The target value for the auto-scaling metric. The default for an Express service is 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100000))]
    pub auto_scaling_target_value: Option<i32>,
}

/// The metric that drives auto scaling.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum ScalingMetric {
    /// Average CPU utilization of the tasks.
    AVERAGE_CPU,
    /// Average memory utilization of the tasks.
    AVERAGE_MEMORY,
    /// Requests per target of the load balancer.
    REQUEST_COUNT_PER_TARGET,
}

/// The observed state of an Express service, written by runway from AWS's answers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpressServiceStatus {
    /// Fields common to all runway resources: conditions, ARN, region, last applied digest.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The name of the Express service in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// The cluster that hosts the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The service status from AWS: `ACTIVE`, `DRAINING` or `INACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    /// Why the service is in its current status, as AWS reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// The ARN of the service deployment that is current.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_deployment: Option<String>,
    /// The status of the current deployment (rollout): `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`,
    /// `STOPPED` or a `ROLLBACK_*` state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<String>,
    /// Why the current deployment is in its status, as AWS reported it (for example the circuit
    /// breaker's finding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status_reason: Option<String>,
    /// The service revision that the current deployment deploys. With `deploymentStatus`, it lets
    /// runway skip DescribeServiceDeployments while the current deployment is unchanged and has
    /// ended: an ended deployment never changes again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_target_revision: Option<String>,
    /// The configuration AWS is deploying, as AWS returned it. Secret references are kept; secret
    /// values never appear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_configuration: Option<TargetConfiguration>,
    /// The public (or private) endpoint of the service, from `ingressPaths`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// When AWS last updated the service (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The rollout runway started (by create, update, redeploy) or found, and has not yet seen
    /// succeed. `Ready` stays False until a deployment that carries it is seen and has succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaited_rollout: Option<AwaitedRollout>,
    /// The AWS resources that Amazon ECS created and manages for the service revision in
    /// `targetConfiguration` (ECS DescribeServiceRevisions, `ecsManagedResources`): its load balancer,
    /// listener, listener rule, target groups, certificate, security groups, auto scaling and log
    /// groups, each with its ARN and status. runway reads them when that revision changes, and again
    /// while any of them is not `ACTIVE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed_resources: Vec<ManagedResource>,
    /// The service revision whose resources `managedResources` lists. runway reads them again only
    /// when the revision in `targetConfiguration` differs, the list is empty, or an entry is not
    /// `ACTIVE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_resources_revision: Option<String>,
}

/// One AWS resource that Amazon ECS manages for an Express service, as ECS reports it. Every field
/// is typed only, so a type or status AWS adds tomorrow never makes a status write fail.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedResource {
    /// What the resource is: `LoadBalancer`, `LoadBalancerSecurityGroup`, `Certificate`,
    /// `Listener`, `ListenerRule`, `TargetGroup`, `ServiceSecurityGroup`, `ScalableTarget`,
    /// `ScalingPolicy`, `MetricAlarm` or `LogGroup`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource's ARN, when AWS reports one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// Its status as AWS reports it: `PROVISIONING`, `ACTIVE`, `DEPROVISIONING`, `DELETED` or
    /// `FAILED`.
    #[serde(default)]
    pub status: String,
    /// Why the resource is in its status, when AWS says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
}

/// A rollout that runway waits for before it reports `Ready`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwaitedRollout {
    /// What started it: `Create`, `Update`, `Redeploy` or `Found` (a service runway found already
    /// matching the spec).
    #[serde(default)]
    pub cause: String,
    /// The service revision the rollout deploys, when AWS said so in its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_revision_arn: Option<String>,
    /// The deployment that was current before runway's call; a deployment that carries the rollout is
    /// a different one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_deployment: Option<String>,
}

/// A service revision's configuration, as AWS reports it. Every field is typed only: no patterns,
/// enums or length limits, so a value AWS adds tomorrow (a new ID format, a new metric) never makes
/// a status write fail.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TargetConfiguration {
    /// The ARN of the service revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_revision_arn: Option<String>,
    /// The ARN of the task execution role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role_arn: Option<String>,
    /// The ARN of the task role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_role_arn: Option<String>,
    /// The CPU allocation of each task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    /// The memory allocation of each task, in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    /// The CPU architecture of the tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_architecture: Option<String>,
    /// The network configuration of the tasks, including any security group that ECS added itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<ObservedNetworkConfiguration>,
    /// The health check path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_path: Option<String>,
    /// The primary container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_container: Option<ObservedContainer>,
    /// The auto-scaling configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_target: Option<ObservedScalingTarget>,
    /// The task definition in use, whether managed by Amazon ECS or provided by you.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition_arn: Option<String>,
    /// The entry points into this revision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ingress_paths: Vec<IngressPath>,
    /// When this revision was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// The subnets and security groups AWS reports.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedNetworkConfiguration {
    /// Security group IDs, in AWS's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<String>,
    /// Subnet IDs, in AWS's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
}

/// The primary container AWS reports. In status, environment variables that the spec does not set
/// show their names only; secret values never appear (only their `valueFrom` references).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedContainer {
    /// The image.
    #[serde(default)]
    pub image: String,
    /// The container port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_port: Option<i32>,
    /// The CloudWatch Logs configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_logs_configuration: Option<ObservedLogsConfiguration>,
    /// The Secrets Manager secret holding private registry credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository_credentials: Option<ObservedRepositoryCredentials>,
    /// The command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environment: Vec<ObservedKeyValue>,
    /// Secret references.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ObservedSecret>,
}

/// Where AWS sends the container's logs.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedLogsConfiguration {
    /// The log group.
    #[serde(default)]
    pub log_group: String,
    /// The log stream prefix.
    #[serde(default)]
    pub log_stream_prefix: String,
}

/// Private registry credentials, as AWS reports them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedRepositoryCredentials {
    /// The ARN of the secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials_parameter: Option<String>,
}

/// An environment variable as AWS reports it; in status the value is left out unless the spec sets
/// this variable itself.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedKeyValue {
    /// The name.
    #[serde(default)]
    pub name: String,
    /// The value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A secret reference as AWS reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedSecret {
    /// The environment variable name.
    #[serde(default)]
    pub name: String,
    /// The ARN (or name) of the secret or parameter; never its value.
    #[serde(default)]
    pub value_from: String,
}

/// Auto scaling as AWS reports it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedScalingTarget {
    /// Minimum task count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_task_count: Option<i32>,
    /// Maximum task count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_task_count: Option<i32>,
    /// The scaling metric, as AWS spells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_metric: Option<String>,
    /// The target value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_scaling_target_value: Option<i32>,
}

/// An entry point into an Express service.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressPath {
    /// `PUBLIC` or `PRIVATE`.
    pub access_type: String,
    /// The endpoint for access to the service.
    pub endpoint: String,
}

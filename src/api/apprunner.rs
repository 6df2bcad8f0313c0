//! The `AppRunnerService` custom resource: an AWS App Runner service.
//!
//! The spec mirrors App Runner's `CreateService` / `UpdateService` request shapes in camelCase, with
//! AWS's documentation on each field, plus the controller-owned fields `region`, `serviceArn`,
//! `deletionPolicy`, `redeployToken` and `paused`. Rules that App Runner enforces are CEL rules here.

use std::collections::BTreeMap;

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::common::{CommonStatus, DeletionPolicy, Tag};

/// The App Runner CPU and memory combinations that AWS accepts.
const INSTANCE_SIZES: &str = "!has(self.cpu) || !has(self.memory) || \
(self.cpu in ['256', '0.25 vCPU'] && self.memory in ['512', '0.5 GB', '1024', '1 GB']) || \
(self.cpu in ['512', '0.5 vCPU'] && self.memory in ['1024', '1 GB']) || \
(self.cpu in ['1024', '1 vCPU'] && self.memory in ['2048', '2 GB', '3072', '3 GB', '4096', '4 GB']) || \
(self.cpu in ['2048', '2 vCPU'] && self.memory in ['4096', '4 GB', '6144', '6 GB']) || \
(self.cpu in ['4096', '4 vCPU'] && self.memory in ['8192', '8 GB', '10240', '10 GB', '12288', '12 GB'])";

/// The desired state of an AWS App Runner service.
///
/// App Runner builds or pulls your source and runs it behind a managed HTTPS endpoint. Every mutating
/// call starts an asynchronous operation; runway follows it to its end before it sends the next one.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, KubeSchema)]
#[kube(
    group = "runway.dev",
    version = "v1alpha1",
    kind = "AppRunnerService",
    doc = "An AWS App Runner service, managed by runway. See docs/apprunnerservice.md.",
    plural = "apprunnerservices",
    shortname = "arsvc",
    namespaced,
    status = "AppRunnerServiceStatus",
    category = "runway",
    validation = Rule::new("has(self.spec.serviceName) || self.metadata.name.matches('^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$')")
        .message("metadata.name is not a valid App Runner service name (4 to 40 letters, digits, '-' and '_', starting with a letter or digit); set spec.serviceName")
        .field_path(".spec.serviceName"),
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.status"}"#,
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".status.serviceUrl"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.serviceName) == has(oldSelf.serviceName)")
        .message("serviceName cannot be added or removed after creation")
        .field_path(".serviceName"),
    validation = Rule::new("has(self.region) == has(oldSelf.region)")
        .message("region cannot be added or removed after creation")
        .field_path(".region"),
    validation = Rule::new("has(self.encryptionConfiguration) == has(oldSelf.encryptionConfiguration)")
        .message("encryptionConfiguration cannot be added or removed after creation: App Runner sets the key only at creation")
        .field_path(".encryptionConfiguration"),
    validation = Rule::new("!has(oldSelf.serviceArn) || has(self.serviceArn)")
        .message("serviceArn cannot be removed once set")
        .field_path(".serviceArn"),
    validation = Rule::new("has(oldSelf.serviceArn) || !has(self.serviceArn)")
        .message("serviceArn cannot be added after creation: runway may already manage a service for this resource; create a new resource to adopt a service")
        .field_path(".serviceArn"),
)]
pub struct AppRunnerServiceSpec {
    /// The AWS Region of the service. Defaults to the controller's region. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("region is immutable"))]
    pub region: Option<String>,

    /// The ARN of an existing App Runner service to manage (adopt) instead of creating one. runway then
    /// never calls CreateService for this resource, and `deletionPolicy` defaults to `Retain`. Immutable
    /// once set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:[0-9]{12}:service/.+$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("serviceArn is immutable"))]
    pub service_arn: Option<String>,

    /// What happens to the AWS service when this resource is deleted: `Delete` removes it, `Retain`
    /// leaves it running. Defaults to `Delete` for services that runway created and `Retain` for
    /// adopted ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_policy: Option<DeletionPolicy>,

    /// An opaque string. Changing it starts a new deployment of the same configuration
    /// (StartDeployment), for example to pick up a new image pushed under the same tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub redeploy_token: Option<String>,

    /// Pause (true) or resume (false) the service. A paused service keeps its configuration but serves
    /// no traffic; runway calls PauseService or ResumeService to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,

    /// A name for the App Runner service: 4 to 40 letters, numbers, hyphens and underscores, starting
    /// with a letter or number, unique among the running services of the account in the Region.
    /// Defaults to the resource's `metadata.name`. Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{3,39}$"))]
    #[x_kube(validation = Rule::new("self == oldSelf").message("serviceName is immutable: renaming requires a new service"))]
    pub service_name: Option<String>,

    /// The source to deploy to the App Runner service. It can be a code or an image repository.
    pub source_configuration: SourceConfiguration,

    /// The runtime configuration of instances (scaling units) of your service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_configuration: Option<InstanceConfiguration>,

    /// The ARN of an App Runner automatic scaling configuration resource to associate with the service.
    /// If not provided, App Runner associates the latest revision of a default auto scaling
    /// configuration. Specify an ARN with a name and a revision number to associate that revision, or
    /// an ARN with just a name to associate its latest revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:[0-9]{12}:autoscalingconfiguration/.+$"
    ))]
    pub auto_scaling_configuration_arn: Option<String>,

    /// The settings for the health check that App Runner performs to monitor the health of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_configuration: Option<HealthCheckConfiguration>,

    /// Configuration settings related to network traffic of the web application that the service runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_configuration: Option<NetworkConfiguration>,

    /// The observability configuration of your service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observability_configuration: Option<ObservabilityConfiguration>,

    /// An optional custom encryption key that App Runner uses to encrypt the copy of your source
    /// repository and your service logs. By default, App Runner uses an AWS managed key. Set only at
    /// creation: immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("encryptionConfiguration is immutable: App Runner sets the key only at creation"))]
    pub encryption_configuration: Option<EncryptionConfiguration>,

    /// Metadata items (key-value pairs) to associate with the App Runner service. Up to 49: runway
    /// adds its own `runway.dev/owner` tag. Tags can be changed at any time: runway sets the ones
    /// named here (TagResource) and removes only the ones it set earlier and no longer finds here
    /// (UntagResource). Tags set by others are kept. A tag change starts no operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 49))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["key".into()]))]
    pub tags: Vec<Tag>,
}

/// The source deployed to an App Runner service: a code or an image repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.codeRepository) != has(self.imageRepository)")
        .message("exactly one of codeRepository and imageRepository must be set"),
    validation = Rule::new("!has(self.imageRepository) || self.imageRepository.imageRepositoryType != 'ECR' || (has(self.authenticationConfiguration) && has(self.authenticationConfiguration.accessRoleArn))")
        .message("authenticationConfiguration.accessRoleArn is required for a private ECR image repository")
        .field_path(".authenticationConfiguration"),
    validation = Rule::new("!has(self.codeRepository) || (has(self.authenticationConfiguration) && has(self.authenticationConfiguration.connectionArn))")
        .message("authenticationConfiguration.connectionArn is required for a code repository")
        .field_path(".authenticationConfiguration"),
)]
pub struct SourceConfiguration {
    /// The description of a source code repository. Set either this or `imageRepository`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_repository: Option<CodeRepository>,
    /// The description of a source image repository. Set either this or `codeRepository`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_repository: Option<ImageRepository>,
    /// If true, continuous integration from the source repository is enabled: each repository change
    /// (a source code commit or a new image version) starts a deployment. App Runner defaults it to
    /// false for ECR Public images and to true otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_deployments_enabled: Option<bool>,
    /// The resources needed to authenticate access to some source repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_configuration: Option<AuthenticationConfiguration>,
}

/// A source code repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeRepository {
    /// The location of the repository that contains the source code.
    #[schemars(length(min = 1, max = 51200))]
    pub repository_url: String,
    /// The version that should be used within the source code repository.
    pub source_code_version: SourceCodeVersion,
    /// Configuration for building and running the service from a source code repository. Required to
    /// create the service.
    pub code_configuration: CodeConfiguration,
    /// The directory that stores source code and configuration files; build and start commands run
    /// from here. Absolute from the repository root, which is the default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 4096))]
    pub source_directory: Option<String>,
}

/// A version of code within a source code repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceCodeVersion {
    /// The type of version identifier. For a git-based repository, branches represent versions.
    #[serde(rename = "type")]
    #[schemars(extend("enum" = ["BRANCH"]))]
    pub type_: String,
    /// A source code version: for a git-based repository, a branch name. App Runner uses the most
    /// recent commit to the branch.
    #[schemars(length(min = 1, max = 51200))]
    pub value: String,
}

/// How App Runner builds and runs a service from source code.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.configurationSource != 'API' || has(self.codeConfigurationValues)")
    .message("codeConfigurationValues is required when configurationSource is API")
    .field_path(".codeConfigurationValues"))]
pub struct CodeConfiguration {
    /// The source of the App Runner configuration: `REPOSITORY` reads `apprunner.yaml` from the
    /// repository and ignores `codeConfigurationValues`; `API` uses `codeConfigurationValues`.
    #[schemars(extend("enum" = ["REPOSITORY", "API"]))]
    pub configuration_source: String,
    /// The basic configuration for building and running the service without an `apprunner.yaml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_configuration_values: Option<CodeConfigurationValues>,
}

/// Build and start settings for a source code service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CodeConfigurationValues {
    /// The runtime environment type for building and running the service.
    #[schemars(extend("enum" = ["PYTHON_3", "NODEJS_12", "NODEJS_14", "CORRETTO_8", "CORRETTO_11", "NODEJS_16", "GO_1", "DOTNET_6", "PHP_81", "RUBY_31", "PYTHON_311", "NODEJS_18", "NODEJS_22"]))]
    pub runtime: String,
    /// The command App Runner runs to build your application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^\n\r]+$"))]
    pub build_command: Option<String>,
    /// The command App Runner runs to start your application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^\n\r]+$"))]
    pub start_command: Option<String>,
    /// The port that your application listens to in the container. Default: 8080.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{1,5}$"))]
    pub port: Option<String>,
    /// Environment variables available to the running service. Values are never logged by runway.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_environment_variables: BTreeMap<String, String>,
    /// Secrets and parameters referenced as environment variables: the full ARN of a Secrets Manager
    /// secret or of a Systems Manager Parameter Store parameter (or its name, in the same Region).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_environment_secrets: BTreeMap<String, String>,
}

/// What App Runner accepts as an image: an Amazon ECR image
/// (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`) or an ECR Public one
/// (`public.ecr.aws/<alias>/<repository>[:tag|@digest]`). botocore's `apprunner ImageIdentifier`
/// pattern, anchored at both ends (docs/aws-behaviour.md A26).
const IMAGE_IDENTIFIER: &str = r"self.imageIdentifier.matches('^([0-9]{12}\\.dkr\\.ecr\\.[a-z-]+-[0-9]\\.amazonaws\\.com|public\\.ecr\\.aws/.+)/(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*(:[\\w+=.:/@-]+|@[\\w:]+)?$')";

/// A source image repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new(IMAGE_IDENTIFIER)
        .message("imageIdentifier must be an Amazon ECR image (<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag or @digest]) or an ECR Public image (public.ecr.aws/<alias>/<repository>[:tag or @digest]): App Runner pulls images from no other registry")
        .field_path(".imageIdentifier"),
    validation = Rule::new("self.imageIdentifier.startsWith('public.ecr.aws/') == (self.imageRepositoryType == 'ECR_PUBLIC')")
        .message("imageRepositoryType must be ECR_PUBLIC for a public.ecr.aws image and ECR for an Amazon ECR image")
        .field_path(".imageRepositoryType"),
)]
pub struct ImageRepository {
    /// The identifier of an image, from Amazon ECR or Amazon ECR Public only: for ECR, an image
    /// name such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest`; for ECR Public, such
    /// as `public.ecr.aws/org/app:latest`. A tag or a digest (`@sha256:…`) may follow the
    /// repository. App Runner pulls from no other registry; copy other images into ECR first.
    #[schemars(length(min = 1, max = 1024))]
    pub image_identifier: String,
    /// Configuration for running the identified image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_configuration: Option<ImageConfiguration>,
    /// The type of the image repository: `ECR` (private) or `ECR_PUBLIC`.
    #[schemars(extend("enum" = ["ECR", "ECR_PUBLIC"]))]
    pub image_repository_type: String,
}

/// How App Runner runs an image.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageConfiguration {
    /// Environment variables available to the running service. Values are never logged by runway.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_environment_variables: BTreeMap<String, String>,
    /// A command that overrides the image's default start command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[^\n\r]+$"))]
    pub start_command: Option<String>,
    /// The port that your application listens to in the container. Default: 8080.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{1,5}$"))]
    pub port: Option<String>,
    /// Secrets and parameters referenced as environment variables: the full ARN of a Secrets Manager
    /// secret or of a Systems Manager Parameter Store parameter.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runtime_environment_secrets: BTreeMap<String, String>,
}

/// Credentials App Runner uses to reach the source repository.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationConfiguration {
    /// The ARN of the App Runner connection that lets App Runner reach a source code repository.
    /// Required for GitHub code repositories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:[0-9]{12}:connection/.+$"))]
    pub connection_arn: Option<String>,
    /// The ARN of the IAM role that grants App Runner access to a source repository. Required for ECR
    /// image repositories (not for ECR Public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|role/service-role)/.+$"))]
    pub access_role_arn: Option<String>,
}

/// The runtime configuration of each instance.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new(INSTANCE_SIZES)
    .message("memory is not valid for this cpu: 0.25 vCPU takes 0.5 or 1 GB; 0.5 vCPU 1 GB; 1 vCPU 2, 3 or 4 GB; 2 vCPU 4 or 6 GB; 4 vCPU 8, 10 or 12 GB")
    .field_path(".memory"))]
pub struct InstanceConfiguration {
    /// The number of CPU units reserved for each instance. Default: 1 vCPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["256", "512", "1024", "2048", "4096", "0.25 vCPU", "0.5 vCPU", "1 vCPU", "2 vCPU", "4 vCPU"]))]
    pub cpu: Option<String>,
    /// The amount of memory, in MB or GB, reserved for each instance. Default: 2 GB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["512", "1024", "2048", "3072", "4096", "6144", "8192", "10240", "12288", "0.5 GB", "1 GB", "2 GB", "3 GB", "4 GB", "6 GB", "8 GB", "10 GB", "12 GB"]))]
    pub memory: Option<String>,
    /// The ARN of an IAM role that provides permissions to your App Runner service: the permissions
    /// your code needs when it calls AWS APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|role/service-role)/.+$"))]
    pub instance_role_arn: Option<String>,
}

/// How App Runner checks the health of the service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheckConfiguration {
    /// The IP protocol for health checks: `TCP` (the default) or `HTTP`, which requests `path`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["TCP", "HTTP"]))]
    pub protocol: Option<String>,
    /// The URL that health check requests are sent to; only applies to `HTTP`. Default: `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub path: Option<String>,
    /// The time interval, in seconds, between health checks. Default: 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub interval: Option<i32>,
    /// The time, in seconds, to wait for a health check response before deciding it failed. Default: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub timeout: Option<i32>,
    /// The number of consecutive checks that must succeed before the service is healthy. Default: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub healthy_threshold: Option<i32>,
    /// The number of consecutive checks that must fail before the service is unhealthy. Default: 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub unhealthy_threshold: Option<i32>,
}

/// Network traffic settings of the service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NetworkConfiguration {
    /// Network configuration settings for outbound traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_configuration: Option<EgressConfiguration>,
    /// Network configuration settings for inbound traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_configuration: Option<IngressConfiguration>,
    /// `IPV4` (the default) or `DUAL_STACK` (IPv4 and IPv6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["IPV4", "DUAL_STACK"]))]
    pub ip_address_type: Option<String>,
}

/// Outbound traffic settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!has(self.egressType) || self.egressType != 'VPC' || has(self.vpcConnectorArn)")
        .message("vpcConnectorArn is required when egressType is VPC")
        .field_path(".vpcConnectorArn"),
    validation = Rule::new("!has(self.vpcConnectorArn) || (has(self.egressType) && self.egressType == 'VPC')")
        .message("vpcConnectorArn is only valid when egressType is VPC")
        .field_path(".vpcConnectorArn"),
)]
pub struct EgressConfiguration {
    /// `DEFAULT` for access to resources on public networks, or `VPC` to associate the service with a
    /// custom VPC through `vpcConnectorArn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("enum" = ["DEFAULT", "VPC"]))]
    pub egress_type: Option<String>,
    /// The ARN of the App Runner VPC connector to use. Only valid when `egressType` is `VPC`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:[0-9]{12}:vpcconnector/.+$"))]
    pub vpc_connector_arn: Option<String>,
}

/// Inbound traffic settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngressConfiguration {
    /// Whether the service is publicly accessible (true) or reachable only from within an Amazon VPC
    /// (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_publicly_accessible: Option<bool>,
}

/// Observability features, such as tracing, for the service.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("!self.observabilityEnabled || has(self.observabilityConfigurationArn)")
        .message("observabilityConfigurationArn is required when observabilityEnabled is true")
        .field_path(".observabilityConfigurationArn"),
    validation = Rule::new("self.observabilityEnabled || !has(self.observabilityConfigurationArn)")
        .message("observabilityConfigurationArn is only valid when observabilityEnabled is true")
        .field_path(".observabilityConfigurationArn"),
)]
pub struct ObservabilityConfiguration {
    /// When true, an observability configuration resource is associated with the service.
    pub observability_enabled: bool,
    /// The ARN of the observability configuration to associate. Only when `observabilityEnabled` is
    /// true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(
        pattern = r"^arn:aws[a-z-]*:apprunner:[a-z0-9-]+:[0-9]{12}:observabilityconfiguration/.+$"
    ))]
    pub observability_configuration_arn: Option<String>,
}

/// A customer managed KMS key for App Runner.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EncryptionConfiguration {
    /// The ARN of the KMS key that's used for encryption.
    #[schemars(regex(pattern = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[0-9a-f-]{36}$"))]
    pub kms_key: String,
}

/// The observed state of an App Runner service, written by runway from AWS's answers.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppRunnerServiceStatus {
    /// Fields common to all runway resources: conditions, ARN, region, last applied digest.
    #[serde(flatten)]
    pub common: CommonStatus,
    /// The ID App Runner generated for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<String>,
    /// The URL App Runner generated for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// App Runner's service status: `CREATE_FAILED`, `RUNNING`, `DELETED`, `DELETE_FAILED`, `PAUSED` or
    /// `OPERATION_IN_PROGRESS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The ID of the last operation runway started or observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    /// The status of that operation: `PENDING`, `IN_PROGRESS`, `SUCCEEDED`, `FAILED` or a `ROLLBACK_*`
    /// state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_status: Option<String>,
    /// The type of that operation, such as `CREATE_SERVICE` or `UPDATE_SERVICE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<String>,
}

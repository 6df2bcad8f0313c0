//! What the simulator is started with: the flags of `runway simulate-aws` ([`SimArgs`]) and the
//! configuration they become ([`SimConfig`]), with its validation and the timings it hands the two
//! services.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use crate::accounts::{self, RoleConfig};
use crate::apprunner::AppRunnerTimings;
use crate::ecs::rollout::EcsTimings;
use crate::faults::FaultConfig;
use crate::normalize::Rewrite;

/// Flags of `runway simulate-aws`.
#[derive(Clone, Debug, clap::Args)]
pub struct SimArgs {
    /// Address to listen on; port 0 picks a free port (the chosen address is printed).
    #[arg(long, env = "RUNWAY_SIM_LISTEN", default_value = "127.0.0.1:4566")]
    pub listen: SocketAddr,
    /// The default account: the 12-digit account ID of every caller that does not sign with STS
    /// session credentials.
    #[arg(long, env = "RUNWAY_SIM_ACCOUNT_ID", default_value = "123456789012")]
    pub account_id: String,
    /// A role STS lets callers assume, as
    /// `ARN[,trust=PRINCIPAL|PRINCIPAL…][,external-id=ID][,max-session-seconds=N]`. PRINCIPAL is a
    /// 12-digit account ID or a principal ARN (default: the default account). Repeatable.
    #[arg(long = "role", value_name = "ROLE", value_parser = RoleConfig::parse_flag)]
    pub roles: Vec<RoleConfig>,
    /// Caps the lifetime of the credentials STS issues, in wall-clock seconds (default: as
    /// requested, one hour unless `DurationSeconds` says otherwise).
    #[arg(long, value_name = "N")]
    pub sts_credential_seconds: Option<u64>,
    /// Seconds an ECS rollout takes from IN_PROGRESS to SUCCESSFUL (or to ROLLBACK_SUCCESSFUL).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_rollout_seconds: f64,
    /// Seconds a deleted ECS service stays DRAINING.
    #[arg(long, default_value_t = 5.0)]
    pub ecs_drain_seconds: f64,
    /// Seconds a drained ECS service stays INACTIVE before it is gone.
    #[arg(long, default_value_t = 5.0)]
    pub ecs_inactive_seconds: f64,
    /// Seconds a new ECS service deployment stays PENDING before IN_PROGRESS (part of the rollout).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_pending_seconds: f64,
    /// Seconds after a create during which DescribeExpressGatewayService reports no
    /// `currentDeployment` (0 turns the eventual consistency off).
    #[arg(long, default_value_t = 10.0)]
    pub ecs_current_deployment_delay_seconds: f64,
    /// Seconds after an update or forced redeploy during which `currentDeployment` still names the
    /// previous deployment (0 turns the lag off).
    #[arg(long, default_value_t = 5.0)]
    pub ecs_deployment_lag_seconds: f64,
    /// Seconds every App Runner operation takes.
    #[arg(long, default_value_t = 5.0)]
    pub apprunner_operation_seconds: f64,
    /// Seconds a deleted App Runner service stays describable as DELETED before it is gone (and a
    /// deleted auto scaling configuration or VPC connector as INACTIVE).
    #[arg(long, default_value_t = 5.0)]
    pub apprunner_deleted_seconds: f64,
    /// Fraction (0 to 1) of AWS calls answered with ThrottlingException.
    #[arg(long, default_value_t = 0.0)]
    pub throttle_rate: f64,
    /// Fraction (0 to 1) of AWS calls answered with a 500 (ServerException or
    /// InternalServiceErrorException).
    #[arg(long, default_value_t = 0.0)]
    pub server_error_rate: f64,
    /// Milliseconds added to every AWS call.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// A requests-per-second limit for each caller account, as KEY=N where KEY is an action family
    /// (`ecs:describe`, `ecs:mutate`, `apprunner:describe`, `apprunner:mutate`) or `service:Action`.
    /// Repeatable.
    #[arg(long = "rate-limit", value_name = "KEY=N", value_parser = parse_rate_limit)]
    pub rate_limits: Vec<(String, f64)>,
    /// Report a field in another spelling than it was sent, as `SERVICE:FIELD=REWRITE`: SERVICE
    /// `ecs` or `apprunner`, FIELD a dotted path in the service's configuration
    /// (`healthCheckPath`, `healthCheckConfiguration.path`), REWRITE `lowercase` or `uppercase`.
    /// Repeatable.
    #[arg(long = "normalize", value_name = "SERVICE:FIELD=REWRITE", value_parser = parse_normalize)]
    pub normalize: Vec<(String, Rewrite)>,
}

fn parse_normalize(value: &str) -> std::result::Result<(String, Rewrite), String> {
    let (key, rewrite) = value
        .split_once('=')
        .ok_or_else(|| format!("expected SERVICE:FIELD=REWRITE, got {value:?}"))?;
    Ok((key.to_string(), Rewrite::parse(rewrite)?))
}

fn parse_rate_limit(value: &str) -> std::result::Result<(String, f64), String> {
    let (key, limit) = value
        .split_once('=')
        .ok_or_else(|| format!("expected KEY=N, got {value:?}"))?;
    let limit: f64 = limit
        .parse()
        .map_err(|e| format!("rate limit {limit:?} is not a number: {e}"))?;
    Ok((key.to_string(), limit))
}

/// Everything the simulator is started with.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// The default account: every caller's account unless it signs with STS session credentials.
    pub account_id: String,
    /// The roles STS lets callers assume (an empty trust list means the default account).
    pub roles: Vec<RoleConfig>,
    /// Caps the lifetime of issued STS credentials, wall-clock seconds (`None`: as requested).
    pub sts_credential_seconds: Option<u64>,
    /// ECS rollout duration, seconds.
    pub ecs_rollout_seconds: f64,
    /// ECS DRAINING duration, seconds.
    pub ecs_drain_seconds: f64,
    /// ECS INACTIVE duration, seconds.
    pub ecs_inactive_seconds: f64,
    /// How long a new ECS deployment is PENDING, seconds.
    pub ecs_pending_seconds: f64,
    /// How long after a create `currentDeployment` is absent, seconds.
    pub ecs_current_deployment_delay_seconds: f64,
    /// How long after an update `currentDeployment` names the previous deployment, seconds.
    pub ecs_deployment_lag_seconds: f64,
    /// App Runner operation duration, seconds.
    pub apprunner_operation_seconds: f64,
    /// App Runner DELETED (and INACTIVE) retention, seconds.
    pub apprunner_deleted_seconds: f64,
    /// Initial fault settings.
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    /// Loopback on a free port, five-second stages, AWS's eventual consistency on, no faults, no
    /// roles.
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            account_id: "123456789012".to_string(),
            roles: Vec::new(),
            sts_credential_seconds: None,
            ecs_rollout_seconds: 5.0,
            ecs_drain_seconds: 5.0,
            ecs_inactive_seconds: 5.0,
            ecs_pending_seconds: 5.0,
            ecs_current_deployment_delay_seconds: 10.0,
            ecs_deployment_lag_seconds: 5.0,
            apprunner_operation_seconds: 5.0,
            apprunner_deleted_seconds: 5.0,
            faults: FaultConfig::default(),
        }
    }
}

impl SimConfig {
    pub(crate) fn ecs_timings(&self) -> EcsTimings {
        EcsTimings {
            rollout_seconds: self.ecs_rollout_seconds,
            drain_seconds: self.ecs_drain_seconds,
            inactive_seconds: self.ecs_inactive_seconds,
            pending_seconds: self.ecs_pending_seconds,
            current_deployment_delay_seconds: self.ecs_current_deployment_delay_seconds,
            deployment_lag_seconds: self.ecs_deployment_lag_seconds,
        }
    }

    pub(crate) fn apprunner_timings(&self) -> AppRunnerTimings {
        AppRunnerTimings {
            operation_seconds: self.apprunner_operation_seconds,
            deleted_retention_seconds: self.apprunner_deleted_seconds,
        }
    }

    pub(crate) fn validate(&self) -> std::result::Result<(), String> {
        let valid_account =
            self.account_id.len() == 12 && self.account_id.chars().all(|c| c.is_ascii_digit());
        if !valid_account {
            return Err(format!("account ID must be 12 digits, got {:?}", self.account_id));
        }
        for role in &self.roles {
            role.validate()?;
        }
        accounts::validate_credential_seconds(self.sts_credential_seconds)?;
        for (name, seconds) in [
            ("ecs-rollout-seconds", self.ecs_rollout_seconds),
            ("ecs-drain-seconds", self.ecs_drain_seconds),
            ("ecs-inactive-seconds", self.ecs_inactive_seconds),
            ("ecs-pending-seconds", self.ecs_pending_seconds),
            (
                "ecs-current-deployment-delay-seconds",
                self.ecs_current_deployment_delay_seconds,
            ),
            ("ecs-deployment-lag-seconds", self.ecs_deployment_lag_seconds),
            ("apprunner-operation-seconds", self.apprunner_operation_seconds),
            ("apprunner-deleted-seconds", self.apprunner_deleted_seconds),
        ] {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(format!("{name} must be a non-negative number, got {seconds}"));
            }
        }
        self.faults.validate()
    }
}

impl From<SimArgs> for SimConfig {
    fn from(args: SimArgs) -> Self {
        let SimArgs {
            listen,
            account_id,
            roles,
            sts_credential_seconds,
            ecs_rollout_seconds,
            ecs_drain_seconds,
            ecs_inactive_seconds,
            ecs_pending_seconds,
            ecs_current_deployment_delay_seconds,
            ecs_deployment_lag_seconds,
            apprunner_operation_seconds,
            apprunner_deleted_seconds,
            throttle_rate,
            server_error_rate,
            latency_ms,
            rate_limits,
            normalize,
        } = args;
        Self {
            listen,
            account_id,
            roles,
            sts_credential_seconds,
            ecs_rollout_seconds,
            ecs_drain_seconds,
            ecs_inactive_seconds,
            ecs_pending_seconds,
            ecs_current_deployment_delay_seconds,
            ecs_deployment_lag_seconds,
            apprunner_operation_seconds,
            apprunner_deleted_seconds,
            faults: FaultConfig {
                throttle_rate,
                server_error_rate,
                latency_ms,
                rate_limit_per_second: rate_limits.into_iter().collect::<BTreeMap<_, _>>(),
                normalize: normalize.into_iter().collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SimArgs,
    }

    #[test]
    fn flags_become_a_config() {
        let cli = Cli::parse_from([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--ecs-rollout-seconds",
            "2",
            "--throttle-rate",
            "0.5",
            "--rate-limit",
            "ecs:describe=3",
            "--rate-limit",
            "apprunner:mutate=1.5",
            "--role",
            "arn:aws:iam::210987654321:role/team-a,trust=123456789012,external-id=xyz",
            "--role",
            "arn:aws:iam::345678901234:role/team-b",
            "--sts-credential-seconds",
            "5",
            "--normalize",
            "ecs:healthCheckPath=lowercase",
        ]);
        let config = SimConfig::from(cli.args);
        assert_eq!(config.roles.len(), 2);
        assert_eq!(config.roles[0].external_id.as_deref(), Some("xyz"));
        assert_eq!(config.roles[1].account(), "345678901234");
        assert_eq!(config.sts_credential_seconds, Some(5));
        assert_eq!(config.ecs_rollout_seconds, 2.0);
        assert_eq!(config.faults.throttle_rate, 0.5);
        assert_eq!(config.faults.rate_limit_per_second["ecs:describe"], 3.0);
        assert_eq!(config.faults.rate_limit_per_second["apprunner:mutate"], 1.5);
        assert_eq!(config.faults.normalize["ecs:healthCheckPath"], Rewrite::Lowercase);
        assert!(config.validate().is_ok());
    }

    #[test]
    fn bad_configs_are_rejected() {
        let config = SimConfig {
            account_id: "12".into(),
            ..SimConfig::default()
        };
        assert!(config.validate().is_err());
        assert!(parse_rate_limit("ecs:describe").is_err());
        assert!(parse_normalize("ecs:healthCheckPath").is_err());
        assert!(parse_normalize("ecs:healthCheckPath=reversed").is_err());
        assert!(Cli::try_parse_from(["sim", "--normalize", "s3:path=lowercase"]).is_ok());
        let bad_key = SimConfig::from(Cli::parse_from(["sim", "--normalize", "s3:path=lowercase"]).args);
        assert!(bad_key.validate().is_err());
        let no_lifetime = SimConfig {
            sts_credential_seconds: Some(0),
            ..SimConfig::default()
        };
        assert!(no_lifetime.validate().is_err());
        let bad_role = SimConfig {
            roles: vec![RoleConfig::new("arn:aws:iam::1:role/x")],
            ..SimConfig::default()
        };
        assert!(bad_role.validate().is_err());
        assert!(Cli::try_parse_from(["sim", "--role", "arn:aws:iam::210987654321:user/x"]).is_err());
    }
}

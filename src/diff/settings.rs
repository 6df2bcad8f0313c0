//! The controller settings `runway diff` decides with (pure): the default Region, the account
//! allow-list, whether every namespace must name a role, the resync interval, and how it names and
//! tags the sessions of the roles it assumes (cluster name, session tags).
//!
//! Data flow: three layers, each a [`Partial`] that may leave a setting out, are stacked by
//! [`resolve`]: the command line wins; then, with `--from-deployment`, what the controller's
//! Deployment gives its container ([`from_deployment`]: its arguments, else its environment, as
//! clap reads them in `runway run`); else diff's own environment ([`from_vars`]). What no layer
//! sets takes `runway run`'s default. With a Deployment, diff's environment fills in only the
//! Region: the IRSA webhook injects `AWS_REGION` into the controller's pods, not its Deployment.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;

use crate::plan::account::{Tenancy, parse_account_id};
use crate::{Error, Result};

/// `runway run`'s default Region.
pub const DEFAULT_REGION: &str = "us-east-1";
/// `runway run`'s default resync interval, in seconds.
pub const DEFAULT_RESYNC_SECONDS: u64 = 600;

/// The environment variables `runway run` reads these settings from.
pub const REGION_VAR: &str = "AWS_REGION";
/// See [`REGION_VAR`].
pub const ALLOWED_VAR: &str = "RUNWAY_ALLOWED_ACCOUNT_IDS";
/// See [`REGION_VAR`].
pub const REQUIRE_ROLE_VAR: &str = "RUNWAY_REQUIRE_NAMESPACE_ROLE";
/// See [`REGION_VAR`].
pub const RESYNC_VAR: &str = "RUNWAY_RESYNC_SECONDS";
/// See [`REGION_VAR`].
pub const CLUSTER_NAME_VAR: &str = "RUNWAY_CLUSTER_NAME";
/// See [`REGION_VAR`].
pub const SESSION_TAGS_VAR: &str = "RUNWAY_AWS_SESSION_TAGS";

/// The settings diff decides with, as the controller's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The Region of resources that name none and have no service yet.
    pub region: String,
    /// The account allow-list and whether a role is required.
    pub tenancy: Tenancy,
    /// The resync interval, which paces retries of rejected requests.
    pub resync_seconds: u64,
    /// The cluster name that names each assumed role's session (`<cluster-name>@<namespace>`).
    pub cluster_name: String,
    /// Whether assumed roles get the session tags `runway.dev/cluster` and `runway.dev/namespace`.
    pub session_tags: bool,
}

/// Settings as one layer gives them; `None` where it says nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Partial {
    /// `--region`, `AWS_REGION`.
    pub region: Option<String>,
    /// `--allowed-account-ids`, `RUNWAY_ALLOWED_ACCOUNT_IDS`.
    pub allowed: Option<Vec<String>>,
    /// `--require-namespace-role`, `RUNWAY_REQUIRE_NAMESPACE_ROLE`.
    pub require_role: Option<bool>,
    /// `--resync-seconds`, `RUNWAY_RESYNC_SECONDS`.
    pub resync_seconds: Option<u64>,
    /// `--cluster-name`, `RUNWAY_CLUSTER_NAME`.
    pub cluster_name: Option<String>,
    /// `--aws-session-tags`, `RUNWAY_AWS_SESSION_TAGS`.
    pub session_tags: Option<bool>,
}

impl Partial {
    /// Each setting from `self`, else from `lower`.
    pub fn or(self, lower: Partial) -> Partial {
        Partial {
            region: self.region.or(lower.region),
            allowed: self.allowed.or(lower.allowed),
            require_role: self.require_role.or(lower.require_role),
            resync_seconds: self.resync_seconds.or(lower.resync_seconds),
            cluster_name: self.cluster_name.or(lower.cluster_name),
            session_tags: self.session_tags.or(lower.session_tags),
        }
    }

    /// The settings, with `runway run`'s defaults for what no layer set.
    pub fn finish(self) -> Settings {
        Settings {
            region: self.region.unwrap_or_else(|| DEFAULT_REGION.into()),
            tenancy: Tenancy {
                allowed: self.allowed.unwrap_or_default(),
                require_role: self.require_role.unwrap_or(false),
            },
            resync_seconds: self.resync_seconds.unwrap_or(DEFAULT_RESYNC_SECONDS),
            cluster_name: self
                .cluster_name
                .unwrap_or_else(|| crate::aws::DEFAULT_CLUSTER_NAME.into()),
            session_tags: self.session_tags.unwrap_or(false),
        }
    }
}

/// The settings from the command line (`flags`), the controller's Deployment when diff read one,
/// and diff's own environment (`ambient`), in that order of precedence (see the module).
pub fn resolve(flags: Partial, deployment: Option<Partial>, ambient: Partial) -> Settings {
    let lower = match deployment {
        Some(deployment) => deployment.or(Partial {
            region: ambient.region,
            ..Partial::default()
        }),
        None => ambient,
    };
    flags.or(lower).finish()
}

/// The settings environment variables give, as `runway run` reads them: an empty variable is
/// unset, a boolean is false for `0`, `false`, `no`, `off`, `f`, `n` (any case), true otherwise.
pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Partial> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let bad = |name: &str, why: String| Error::Config(format!("{name}: {why}"));
    let allowed = var(ALLOWED_VAR)
        .map(|v| {
            v.split(',')
                .map(parse_account_id)
                .collect::<std::result::Result<_, _>>()
        })
        .transpose()
        .map_err(|why| bad(ALLOWED_VAR, why))?;
    let resync_seconds = var(RESYNC_VAR)
        .map(|v| v.trim().parse::<u64>())
        .transpose()
        .map_err(|e| bad(RESYNC_VAR, e.to_string()))?;
    Ok(Partial {
        region: var(REGION_VAR),
        allowed,
        require_role: var(REQUIRE_ROLE_VAR).map(|v| truthy(&v)),
        resync_seconds,
        cluster_name: var(CLUSTER_NAME_VAR),
        session_tags: var(SESSION_TAGS_VAR).map(|v| truthy(&v)),
    })
}

/// clap's reading of a boolean environment variable.
fn truthy(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "" | "0" | "false" | "no" | "off" | "f" | "n"
    )
}

/// The settings a command line gives (`runway run`'s flags, in the container's command and
/// arguments): `--flag VALUE` or `--flag=VALUE`; `--allowed-account-ids` may repeat.
pub fn from_args(args: &[String]) -> Result<Partial> {
    let mut partial = Partial::default();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (word.as_str(), None),
        };
        // NB: boolean flags take no separate value; `--flag=false` is clap's explicit form.
        match flag {
            "--require-namespace-role" => {
                partial.require_role = Some(inline.as_deref().is_none_or(truthy));
                continue;
            }
            "--aws-session-tags" => {
                partial.session_tags = Some(inline.as_deref().is_none_or(truthy));
                continue;
            }
            "--region" | "--allowed-account-ids" | "--resync-seconds" | "--cluster-name" => {}
            _ => continue,
        }
        let value = inline
            .or_else(|| words.next().cloned())
            .ok_or_else(|| Error::Config(format!("{flag} has no value")))?;
        set(&mut partial, flag, &value)?;
    }
    Ok(partial)
}

/// Sets the setting of one flag with a value.
fn set(partial: &mut Partial, flag: &str, value: &str) -> Result<()> {
    let bad = |why: String| Error::Config(format!("{flag} {value:?}: {why}"));
    match flag {
        "--region" => partial.region = Some(value.to_string()),
        "--cluster-name" => partial.cluster_name = Some(value.to_string()),
        "--resync-seconds" => {
            partial.resync_seconds = Some(value.trim().parse().map_err(|e| bad(format!("{e}")))?);
        }
        _ => {
            let ids = value
                .split(',')
                .map(parse_account_id)
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(bad)?;
            partial.allowed.get_or_insert_with(Vec::new).extend(ids);
        }
    }
    Ok(())
}

/// The settings the runway container of `deployment` runs with: its command line, else its
/// environment (clap's precedence). The container is the one named `runway`, else the only one.
/// An error when the Deployment has no such container, or sets one of these variables from a
/// ConfigMap, Secret or field (`valueFrom`), which diff does not read, unless `flags` give that
/// setting.
pub fn from_deployment(deployment: &Deployment, name: &str, flags: &Partial) -> Result<Partial> {
    let containers = deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let container = match containers {
        [only] => only,
        many => many.iter().find(|c| c.name == "runway").ok_or_else(|| {
            let names: Vec<&str> = many.iter().map(|c| c.name.as_str()).collect();
            Error::Config(format!(
                "Deployment {name} has no container named runway (containers: {})",
                names.join(", ")
            ))
        })?,
    };
    let given = |var: &str| match var {
        REGION_VAR => flags.region.is_some(),
        ALLOWED_VAR => flags.allowed.is_some(),
        REQUIRE_ROLE_VAR => flags.require_role.is_some(),
        RESYNC_VAR => flags.resync_seconds.is_some(),
        CLUSTER_NAME_VAR => flags.cluster_name.is_some(),
        SESSION_TAGS_VAR => flags.session_tags.is_some(),
        _ => true,
    };
    let env = container_env(container, name, given)?;
    let args: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .cloned()
        .collect();
    Ok(from_args(&args)?.or(from_vars(|v| env.get(v).cloned())?))
}

/// The literal environment of a container (the last of two entries with one name wins, as in
/// Kubernetes); an error for a variable set otherwise (`valueFrom`) that diff needs, that is, one
/// whose setting is not `given` on the command line.
fn container_env(
    container: &Container,
    name: &str,
    given: impl Fn(&str) -> bool,
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut env = std::collections::BTreeMap::new();
    for var in container.env.iter().flatten() {
        match (&var.value, &var.value_from) {
            (_, Some(_)) if !given(&var.name) => {
                return Err(Error::Config(format!(
                    "Deployment {name} sets {} with valueFrom, which runway diff does not read; \
                     give runway diff that setting as a flag",
                    var.name
                )));
            }
            (value, _) => {
                env.insert(var.name.clone(), value.clone().unwrap_or_default());
            }
        }
    }
    Ok(env)
}

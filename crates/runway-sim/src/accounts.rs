//! Accounts, IAM roles and the session credentials STS issues.
//!
//! Every AWS call is made by a principal, named by the access key ID in the SigV4 signature. A key
//! the simulator never issued is a principal of the default account (`--account-id`),
//! `arn:aws:iam::<account>:user/<key>`, which is what every caller was before STS existed. A key
//! issued by AssumeRole belongs to the role's account and to the session's assumed-role ARN until it
//! expires. The server resolves the caller here before anything else, and the ECS or App Runner call
//! then runs in the caller's account.
//!
//! Roles come from `--role` flags and `POST /_sim/roles`. A role trusts accounts or principal ARNs
//! and may require an external ID (docs/aws-behaviour.md X7). Issued credentials expire on the wall
//! clock, not the simulated one, because the SDKs compare `Expiration` with the system clock (X8).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ids;
use super::wire::AwsError;

/// A role's maximum session duration unless configured otherwise, and the lowest one IAM allows.
pub const DEFAULT_MAX_SESSION_SECONDS: u64 = 3600;
/// The highest maximum session duration IAM allows.
pub const MAX_SESSION_SECONDS: u64 = 43200;
/// The shortest session AssumeRole grants (`DurationSeconds` minimum).
pub const MIN_SESSION_SECONDS: u64 = 900;
/// The longest session a role session may request when it assumes another role (role chaining).
pub const ROLE_CHAINING_LIMIT_SECONDS: u64 = 3600;
/// The prefix of temporary access key IDs, as AWS spells it (long-term keys start with `AKIA`).
pub const SESSION_KEY_PREFIX: &str = "ASIA";
/// How long an expired session is still known, and answered `ExpiredToken`, before it is
/// forgotten; its key is then unrecognized, like any temporary key the simulator never issued.
pub const EXPIRED_SESSION_RETENTION_SECONDS: f64 = 3600.0;

/// The access key ID used for requests without a SigV4 signature.
const ANONYMOUS_KEY: &str = "anonymous";

/// The current wall-clock time in epoch seconds. Session expiry uses it rather than the simulated
/// clock: the SDKs decide when to refresh by comparing `Expiration` with the system clock.
pub fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// An IAM role that callers may assume, as `POST /_sim/roles` and `GET /_sim/roles` spell it:
/// `{"arn": "arn:aws:iam::210987654321:role/team-a", "trust": ["123456789012"], "externalId": "xyz"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleConfig {
    /// `arn:aws:iam::<account>:role/<path/><name>`; the sessions operate in `<account>`.
    pub arn: String,
    /// The trust policy's principals: 12-digit account IDs (any principal of that account),
    /// `arn:aws:iam::<account>:root` (the same), or exact principal ARNs (an IAM user, a role, or an
    /// assumed-role session). Empty means the simulator's default account.
    #[serde(default)]
    pub trust: Vec<String>,
    /// The external ID the trust policy requires (`sts:ExternalId`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The role's maximum session duration (3600 to 43200 seconds, AWS's default 3600).
    #[serde(default = "default_max_session_seconds")]
    pub max_session_seconds: u64,
}

fn default_max_session_seconds() -> u64 {
    DEFAULT_MAX_SESSION_SECONDS
}

impl RoleConfig {
    /// A role trusting the default account, without an external ID, with a one-hour maximum.
    pub fn new(arn: impl Into<String>) -> Self {
        Self {
            arn: arn.into(),
            trust: Vec::new(),
            external_id: None,
            max_session_seconds: DEFAULT_MAX_SESSION_SECONDS,
        }
    }

    /// Parses a `--role` flag:
    /// `ARN[,trust=PRINCIPAL|PRINCIPAL…][,external-id=ID][,max-session-seconds=N]`.
    /// NB: `|` separates principals (any one of them may assume the role), so no value may contain
    /// `,` or `|`; the control endpoint takes any value.
    pub fn parse_flag(value: &str) -> Result<Self, String> {
        let mut parts = value.split(',');
        let mut role = Self::new(parts.next().unwrap_or_default().trim());
        for part in parts {
            let (key, setting) = part.split_once('=').ok_or_else(|| {
                format!("expected trust=…, external-id=… or max-session-seconds=…, got {part:?}")
            })?;
            match key.trim() {
                "trust" => {
                    role.trust = setting
                        .split('|')
                        .map(str::trim)
                        .filter(|p| !p.is_empty())
                        .map(String::from)
                        .collect();
                }
                "external-id" => role.external_id = Some(setting.trim().to_string()),
                "max-session-seconds" => {
                    role.max_session_seconds = setting
                        .trim()
                        .parse()
                        .map_err(|e| format!("max-session-seconds {setting:?}: {e}"))?;
                }
                other => return Err(format!("unknown role setting {other:?}")),
            }
        }
        role.validate()?;
        Ok(role)
    }

    /// Checks the ARN, the trust principals, the external ID and the maximum session duration.
    pub fn validate(&self) -> Result<(), String> {
        parse_role_arn(&self.arn).ok_or_else(|| {
            format!(
                "{:?} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)",
                self.arn
            )
        })?;
        for principal in &self.trust {
            if principal_account(principal).is_none() {
                return Err(format!(
                    "trust principal {principal:?} is neither a 12-digit account ID nor an IAM or STS \
                     principal ARN"
                ));
            }
        }
        if let Some(id) = &self.external_id
            && !valid_external_id(id)
        {
            return Err(format!(
                "external ID {id:?} must have 2 to 1224 characters of [\\w+=,.@:/-]"
            ));
        }
        if !(DEFAULT_MAX_SESSION_SECONDS..=MAX_SESSION_SECONDS).contains(&self.max_session_seconds) {
            return Err(format!(
                "max session duration must be {DEFAULT_MAX_SESSION_SECONDS} to {MAX_SESSION_SECONDS} \
                 seconds, got {}",
                self.max_session_seconds
            ));
        }
        Ok(())
    }

    /// The account the role belongs to.
    pub fn account(&self) -> &str {
        parse_role_arn(&self.arn).map_or("", |(account, _)| account)
    }

    /// The role's name, without its path.
    pub fn name(&self) -> &str {
        parse_role_arn(&self.arn).map_or("", |(_, name)| name)
    }

    /// The role's unique ID (`AROA` and 17 base32 characters), stable for an ARN as IAM's is for a
    /// role.
    pub fn unique_id(&self) -> String {
        let digest = Sha256::digest(self.arn.as_bytes());
        let tail: String = digest
            .iter()
            .take(17)
            .map(|b| char::from(ids::BASE32[usize::from(*b) % ids::BASE32.len()]))
            .collect();
        format!("AROA{tail}")
    }
}

fn is_account_id(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

/// Java's `\w`, which AWS's patterns use: ASCII letters, digits and `_`.
pub fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A role name: 1 to 64 characters of `[\w+=,.@-]`.
fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| is_word(c) || "+=,.@-".contains(c))
}

/// An external ID as AssumeRole's model constrains it: 2 to 1224 characters of `[\w+=,.@:/-]`.
pub fn valid_external_id(id: &str) -> bool {
    (2..=1224).contains(&id.len()) && id.chars().all(|c| is_word(c) || "+=,.@:/-".contains(c))
}

/// The account and name of `arn:aws:iam::<account>:role/<path/><name>`.
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    let path_ok = path.chars().all(|c| c.is_ascii_graphic());
    (is_account_id(account) && valid_role_name(name) && path_ok && arn.len() <= 2048)
        .then_some((account, name))
}

/// The account a trust principal names: a 12-digit account ID, or the account field of an
/// `arn:aws:iam::…` or `arn:aws:sts::…` principal ARN. `None` for anything else.
pub fn principal_account(principal: &str) -> Option<&str> {
    if is_account_id(principal) {
        return Some(principal);
    }
    let rest = principal
        .strip_prefix("arn:aws:iam::")
        .or_else(|| principal.strip_prefix("arn:aws:sts::"))?;
    let (account, resource) = rest.split_once(':')?;
    (is_account_id(account) && !resource.is_empty()).then_some(account)
}

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The account the request operates in.
    pub account: String,
    /// The principal's ARN: `arn:aws:iam::<account>:user/<key>` or
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
    pub arn: String,
    /// GetCallerIdentity's `UserId`: the access key ID of a default-account principal, or
    /// `<role ID>:<session>` for a role session.
    pub user_id: String,
    /// The role a session was issued for; a trust policy may name the role instead of the session.
    pub role_arn: Option<String>,
}

impl Caller {
    /// A principal of `account` that signs with `access_key`, a key the simulator never issued.
    pub fn user(account: &str, access_key: &str) -> Self {
        Self {
            account: account.to_string(),
            arn: format!("arn:aws:iam::{account}:user/{access_key}"),
            user_id: access_key.to_string(),
            role_arn: None,
        }
    }
}

/// What the access key of a request turned out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// A principal of the default account or a live role session.
    Valid(Caller),
    /// Session credentials past their expiration.
    Expired(Caller),
    /// A temporary key (`ASIA…`) the simulator did not issue, or forgot a while after it expired.
    Unrecognized,
}

impl Authentication {
    /// The account the key belongs to, when known.
    pub fn account(&self) -> Option<&str> {
        match self {
            Self::Valid(caller) | Self::Expired(caller) => Some(&caller.account),
            Self::Unrecognized => None,
        }
    }
}

/// An AssumeRole request that passed the model's constraints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRoleRequest {
    /// The role to assume.
    pub role_arn: String,
    /// The session name, the last part of the assumed-role ARN.
    pub session_name: String,
    /// The external ID the caller presents.
    pub external_id: Option<String>,
    /// The requested session duration (default one hour).
    pub duration_seconds: Option<u64>,
    /// The source identity the caller sets, if any.
    pub source_identity: Option<String>,
    /// The session tags the caller passes, by key.
    pub tags: BTreeMap<String, String>,
}

/// A session AssumeRole issued, as `GET /_sim/sessions` lists it, so that tests see which session
/// name, source identity and tags a client used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedSession {
    /// The role assumed.
    pub role_arn: String,
    /// The session name.
    pub session_name: String,
    /// The source identity, if the caller set one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// The session tags, by key.
    pub tags: BTreeMap<String, String>,
    /// The ARN of the principal that assumed the role.
    pub caller_arn: String,
}

/// How many issued sessions the simulator remembers (the oldest are forgotten first).
pub const SESSION_LOG_LIMIT: usize = 1000;

/// Credentials AssumeRole issued.
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedCredentials {
    /// `ASIA` and 16 base32 characters.
    pub access_key_id: String,
    /// The secret key (the simulator does not check signatures, so it is never used).
    pub secret_access_key: String,
    /// The session token the SDKs send as `X-Amz-Security-Token`.
    pub session_token: String,
    /// When the credentials expire, epoch seconds on the wall clock (whole seconds).
    pub expiration: f64,
    /// The session as a caller: its account, assumed-role ARN and `AssumedRoleId`.
    pub caller: Caller,
}

#[derive(Clone, Debug)]
struct Session {
    caller: Caller,
    expires_at: f64,
}

#[derive(Debug, Default)]
struct Inner {
    roles: BTreeMap<String, RoleConfig>,
    sessions: HashMap<String, Session>,
    issued: Vec<IssuedSession>,
    credential_seconds: Option<u64>,
}

/// The simulated IAM and STS state: roles, the sessions issued, and the credential lifetime cap.
#[derive(Debug)]
pub struct Accounts {
    default_account: String,
    initial_roles: Vec<RoleConfig>,
    initial_credential_seconds: Option<u64>,
    inner: Mutex<Inner>,
}

impl Accounts {
    /// The state the flags describe. `roles` must have passed [`RoleConfig::validate`].
    pub fn new(default_account: &str, roles: &[RoleConfig], credential_seconds: Option<u64>) -> Self {
        let accounts = Self {
            default_account: default_account.to_string(),
            initial_roles: roles.to_vec(),
            initial_credential_seconds: credential_seconds,
            inner: Mutex::new(Inner::default()),
        };
        accounts.reset();
        accounts
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // NB: every update below leaves the maps consistent, so a poisoned lock is fine.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The account of every caller that is not a role session.
    pub fn default_account(&self) -> &str {
        &self.default_account
    }

    /// A role with an empty trust list trusts the default account.
    fn normalized(&self, mut role: RoleConfig) -> RoleConfig {
        if role.trust.is_empty() {
            role.trust.push(self.default_account.clone());
        }
        role
    }

    /// Restores the roles and the credential cap from the flags. Issued sessions stay valid until
    /// they expire: clients hold them, as they hold the simulated clock's time.
    pub fn reset(&self) {
        let roles = self
            .initial_roles
            .iter()
            .map(|role| (role.arn.clone(), self.normalized(role.clone())))
            .collect();
        let mut inner = self.lock();
        inner.roles = roles;
        inner.credential_seconds = self.initial_credential_seconds;
    }

    /// Adds a role, or replaces the role with the same ARN. Returns it as stored (an empty trust
    /// list filled in with the default account).
    pub fn add_role(&self, role: RoleConfig) -> Result<RoleConfig, String> {
        role.validate()?;
        let role = self.normalized(role);
        self.lock().roles.insert(role.arn.clone(), role.clone());
        Ok(role)
    }

    /// Every role, by ARN.
    pub fn roles(&self) -> Vec<RoleConfig> {
        self.lock().roles.values().cloned().collect()
    }

    /// Caps the lifetime of credentials issued from now on (`None`: as requested).
    pub fn set_credential_seconds(&self, seconds: Option<u64>) -> Result<(), String> {
        validate_credential_seconds(seconds)?;
        self.lock().credential_seconds = seconds;
        Ok(())
    }

    /// The credential lifetime cap.
    pub fn credential_seconds(&self) -> Option<u64> {
        self.lock().credential_seconds
    }

    /// The sessions AssumeRole issued since the last [`Accounts::clear_sessions`], oldest first.
    pub fn issued_sessions(&self) -> Vec<IssuedSession> {
        self.lock().issued.clone()
    }

    /// Forgets the log of issued sessions (the sessions stay valid).
    pub fn clear_sessions(&self) {
        self.lock().issued.clear();
    }

    /// Resolves the access key of a request at wall-clock time `now`. A request without a
    /// signature is the default account's `anonymous` principal.
    pub fn authenticate(&self, access_key: Option<&str>, now: f64) -> Authentication {
        let key = access_key.unwrap_or(ANONYMOUS_KEY);
        if let Some(session) = self.lock().sessions.get(key) {
            return if now >= session.expires_at {
                Authentication::Expired(session.caller.clone())
            } else {
                Authentication::Valid(session.caller.clone())
            };
        }
        if looks_temporary(key) {
            Authentication::Unrecognized
        } else {
            Authentication::Valid(Caller::user(&self.default_account, key))
        }
    }

    /// AssumeRole at wall-clock time `now`: checks the role's trust policy and external ID, then
    /// the session duration, and issues credentials. Every refusal of the trust policy, an unknown
    /// role included, is the same `AccessDenied`, as AWS does not tell which condition failed.
    pub fn assume_role(
        &self,
        caller: &Caller,
        request: &AssumeRoleRequest,
        now: f64,
    ) -> Result<IssuedCredentials, AwsError> {
        let mut inner = self.lock();
        let denied = || {
            AwsError::with_status(
                "AccessDenied",
                format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {}",
                    caller.arn, request.role_arn
                ),
                403,
            )
        };
        let role = inner.roles.get(&request.role_arn).ok_or_else(denied)?;
        if !trusts(role, caller) || !external_id_matches(role, request.external_id.as_deref()) {
            return Err(denied());
        }
        let requested = request.duration_seconds.unwrap_or(DEFAULT_MAX_SESSION_SECONDS);
        if caller.role_arn.is_some() && requested > ROLE_CHAINING_LIMIT_SECONDS {
            return Err(AwsError::new(
                "ValidationError",
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed \
                 by role chaining.",
            ));
        }
        if requested > role.max_session_seconds {
            return Err(AwsError::new(
                "ValidationError",
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let lifetime = inner
            .credential_seconds
            .map_or(requested, |cap| requested.min(cap));
        // NB: Expiration is sent in whole seconds; rounding the start up means credentials never
        // live shorter than granted.
        let expiration = now.ceil() + lifetime as f64;
        let session = Caller {
            account: role.account().to_string(),
            arn: format!(
                "arn:aws:sts::{}:assumed-role/{}/{}",
                role.account(),
                role.name(),
                request.session_name
            ),
            user_id: format!("{}:{}", role.unique_id(), request.session_name),
            role_arn: Some(role.arn.clone()),
        };
        let access_key_id = format!("{SESSION_KEY_PREFIX}{}", ids::base32(16));
        inner
            .sessions
            .retain(|_, s| now < s.expires_at + EXPIRED_SESSION_RETENTION_SECONDS);
        inner.sessions.insert(
            access_key_id.clone(),
            Session {
                caller: session.clone(),
                expires_at: expiration,
            },
        );
        if inner.issued.len() >= SESSION_LOG_LIMIT {
            inner.issued.remove(0);
        }
        inner.issued.push(IssuedSession {
            role_arn: request.role_arn.clone(),
            session_name: request.session_name.clone(),
            source_identity: request.source_identity.clone(),
            tags: request.tags.clone(),
            caller_arn: caller.arn.clone(),
        });
        Ok(IssuedCredentials {
            access_key_id,
            secret_access_key: ids::alphanumeric(40),
            session_token: ids::alphanumeric(160),
            expiration,
            caller: session,
        })
    }
}

/// The credential cap must be a positive number of seconds.
pub fn validate_credential_seconds(seconds: Option<u64>) -> Result<(), String> {
    match seconds {
        Some(0) => Err("the STS credential lifetime must be at least 1 second".to_string()),
        _ => Ok(()),
    }
}

/// A key in the format of AWS's temporary access keys: `ASIA` and 16 base32 characters.
fn looks_temporary(key: &str) -> bool {
    key.len() == 20 && key.starts_with(SESSION_KEY_PREFIX) && key.bytes().all(|b| ids::BASE32.contains(&b))
}

/// Whether the role's trust policy names the caller: its account (as an ID or a `:root` ARN), its
/// own ARN, or for a role session the role it was issued for.
/// NB: AWS also requires a cross-account caller's own policies to allow `sts:AssumeRole`; the
/// simulator models no identity policies, so every principal of a trusted account may.
pub fn trusts(role: &RoleConfig, caller: &Caller) -> bool {
    role.trust.iter().any(|principal| {
        if is_account_id(principal) {
            return *principal == caller.account;
        }
        if principal_account(principal).is_some() && principal.ends_with(":root") {
            return principal == &format!("arn:aws:iam::{}:root", caller.account);
        }
        *principal == caller.arn || caller.role_arn.as_deref() == Some(principal.as_str())
    })
}

/// Whether the caller presented the external ID the trust policy requires (`sts:ExternalId`). A
/// role that requires none accepts any.
pub fn external_id_matches(role: &RoleConfig, given: Option<&str>) -> bool {
    role.external_id
        .as_deref()
        .is_none_or(|required| given == Some(required))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::arn_account;

    const TEAM_A: &str = "arn:aws:iam::210987654321:role/runway-team-a";

    fn accounts(roles: &[RoleConfig]) -> Accounts {
        Accounts::new("123456789012", roles, None)
    }

    fn request(role: &str) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: role.to_string(),
            session_name: "runway".to_string(),
            external_id: None,
            duration_seconds: None,
            source_identity: None,
            tags: BTreeMap::new(),
        }
    }

    #[test]
    fn role_flags_parse_trust_external_id_and_duration() {
        let role = RoleConfig::parse_flag(
            "arn:aws:iam::210987654321:role/team/runway-team-a,trust=123456789012|\
             arn:aws:iam::123456789012:role/controller,external-id=xyz,max-session-seconds=7200",
        )
        .unwrap();
        assert_eq!(role.arn, "arn:aws:iam::210987654321:role/team/runway-team-a");
        assert_eq!(
            role.trust,
            ["123456789012", "arn:aws:iam::123456789012:role/controller"]
        );
        assert_eq!(role.external_id.as_deref(), Some("xyz"));
        assert_eq!(role.max_session_seconds, 7200);
        assert_eq!(role.account(), "210987654321");
        assert_eq!(role.name(), "runway-team-a");
        assert!(role.unique_id().starts_with("AROA"));
        assert_eq!(role.unique_id().len(), 21);
        assert_eq!(role.unique_id(), role.clone().unique_id());

        let bare = RoleConfig::parse_flag(TEAM_A).unwrap();
        assert!(bare.trust.is_empty());
        assert_eq!(bare.max_session_seconds, 3600);
        for bad in [
            "arn:aws:iam::21098765432:role/short-account",
            "arn:aws:iam::210987654321:user/not-a-role",
            "arn:aws:iam::210987654321:role/bad name",
            "arn:aws:iam::210987654321:role/x,trust=nobody",
            "arn:aws:iam::210987654321:role/x,external-id=a",
            "arn:aws:iam::210987654321:role/x,max-session-seconds=60",
            "arn:aws:iam::210987654321:role/x,colour=blue",
            "arn:aws:iam::210987654321:role/x,trust",
        ] {
            assert!(RoleConfig::parse_flag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_read_and_write_camel_case_json() {
        let role: RoleConfig = serde_json::from_str(
            r#"{"arn": "arn:aws:iam::210987654321:role/a", "trust": ["123456789012"], "externalId": "xyz"}"#,
        )
        .unwrap();
        assert_eq!(role.external_id.as_deref(), Some("xyz"));
        assert_eq!(role.max_session_seconds, 3600);
        assert_eq!(
            serde_json::to_value(&role).unwrap()["maxSessionSeconds"],
            serde_json::json!(3600)
        );
        assert!(serde_json::from_str::<RoleConfig>(r#"{"arn": "x", "surprise": 1}"#).is_err());
    }

    #[test]
    fn trust_names_accounts_root_arns_principals_and_roles_of_sessions() {
        let user = Caller::user("123456789012", "AKIDSIMULATOR");
        let session = Caller {
            account: "210987654321".into(),
            arn: "arn:aws:sts::210987654321:assumed-role/hub/runway".into(),
            user_id: "AROAEXAMPLE:runway".into(),
            role_arn: Some("arn:aws:iam::210987654321:role/hub".into()),
        };
        let trusting = |principal: &str| RoleConfig {
            trust: vec![principal.to_string()],
            ..RoleConfig::new(TEAM_A)
        };
        assert!(trusts(&trusting("123456789012"), &user));
        assert!(!trusts(&trusting("123456789012"), &session));
        assert!(trusts(&trusting("arn:aws:iam::123456789012:root"), &user));
        assert!(!trusts(&trusting("arn:aws:iam::999999999999:root"), &user));
        assert!(trusts(
            &trusting("arn:aws:iam::123456789012:user/AKIDSIMULATOR"),
            &user
        ));
        assert!(!trusts(
            &trusting("arn:aws:iam::123456789012:user/someone-else"),
            &user
        ));
        assert!(trusts(&trusting("arn:aws:iam::210987654321:role/hub"), &session));
        assert!(trusts(
            &trusting("arn:aws:sts::210987654321:assumed-role/hub/runway"),
            &session
        ));
        assert!(!trusts(&trusting("arn:aws:iam::210987654321:role/hub"), &user));

        let with_id = RoleConfig {
            external_id: Some("xyz".into()),
            ..RoleConfig::new(TEAM_A)
        };
        assert!(external_id_matches(&with_id, Some("xyz")));
        assert!(!external_id_matches(&with_id, Some("abc")));
        assert!(!external_id_matches(&with_id, None));
        assert!(external_id_matches(&RoleConfig::new(TEAM_A), Some("anything")));
    }

    #[test]
    fn assume_role_issues_a_session_in_the_roles_account_until_it_expires() {
        let accounts = accounts(&[RoleConfig::new(TEAM_A)]);
        assert_eq!(accounts.roles()[0].trust, ["123456789012"]);
        let user = Caller::user("123456789012", "AKIDSIMULATOR");
        let issued = accounts.assume_role(&user, &request(TEAM_A), 1000.5).unwrap();
        assert!(looks_temporary(&issued.access_key_id), "{}", issued.access_key_id);
        assert_eq!(issued.expiration, 1001.0 + 3600.0);
        assert_eq!(issued.caller.account, "210987654321");
        assert_eq!(
            issued.caller.arn,
            "arn:aws:sts::210987654321:assumed-role/runway-team-a/runway"
        );
        assert!(issued.caller.user_id.ends_with(":runway"));

        let key = Some(issued.access_key_id.as_str());
        assert_eq!(
            accounts.authenticate(key, 2000.0),
            Authentication::Valid(issued.caller.clone())
        );
        assert_eq!(
            accounts.authenticate(key, issued.expiration),
            Authentication::Expired(issued.caller.clone())
        );
        assert_eq!(
            accounts.authenticate(Some("x"), 0.0),
            Authentication::Valid(Caller::user("123456789012", "x"))
        );
        assert_eq!(accounts.authenticate(None, 0.0).account(), Some("123456789012"));
        assert_eq!(
            accounts.authenticate(Some("ASIAAAAAAAAAAAAAAAAA"), 0.0),
            Authentication::Unrecognized
        );

        // Long expired sessions are forgotten when the next one is issued.
        let later = issued.expiration + EXPIRED_SESSION_RETENTION_SECONDS + 1.0;
        accounts.assume_role(&user, &request(TEAM_A), later).unwrap();
        assert_eq!(accounts.authenticate(key, later), Authentication::Unrecognized);
    }

    #[test]
    fn refusals_are_one_access_denied_and_durations_are_bounded() {
        let accounts = accounts(&[
            RoleConfig {
                trust: vec!["arn:aws:iam::123456789012:user/controller".into()],
                external_id: Some("xyz".into()),
                ..RoleConfig::new(TEAM_A)
            },
            RoleConfig {
                trust: vec!["210987654321".into()],
                max_session_seconds: 7200,
                ..RoleConfig::new("arn:aws:iam::345678901234:role/team-b")
            },
        ]);
        let controller = Caller::user("123456789012", "controller");
        let stranger = Caller::user("123456789012", "stranger");
        let good = AssumeRoleRequest {
            external_id: Some("xyz".into()),
            ..request(TEAM_A)
        };
        let denied = accounts.assume_role(&stranger, &good, 0.0).unwrap_err();
        assert_eq!((denied.code, denied.status), ("AccessDenied", 403));
        assert_eq!(
            denied.message,
            "User: arn:aws:iam::123456789012:user/stranger is not authorized to perform: \
             sts:AssumeRole on resource: arn:aws:iam::210987654321:role/runway-team-a"
        );
        for bad in [
            request(TEAM_A),
            AssumeRoleRequest {
                external_id: Some("abc".into()),
                ..request(TEAM_A)
            },
            request("arn:aws:iam::210987654321:role/unknown"),
        ] {
            assert_eq!(
                accounts.assume_role(&controller, &bad, 0.0).unwrap_err().code,
                "AccessDenied"
            );
        }
        let too_long = AssumeRoleRequest {
            duration_seconds: Some(7200),
            ..good.clone()
        };
        let error = accounts.assume_role(&controller, &too_long, 0.0).unwrap_err();
        assert_eq!(error.code, "ValidationError");
        assert!(error.message.contains("MaxSessionDuration"), "{}", error.message);

        // Role chaining: a team-a session may assume team-b, for at most an hour.
        let session = accounts.assume_role(&controller, &good, 0.0).unwrap().caller;
        let chained = AssumeRoleRequest {
            duration_seconds: Some(7200),
            ..request("arn:aws:iam::345678901234:role/team-b")
        };
        let error = accounts.assume_role(&session, &chained, 0.0).unwrap_err();
        assert!(error.message.contains("role chaining"), "{}", error.message);
        let hour = AssumeRoleRequest {
            duration_seconds: Some(3600),
            ..chained
        };
        assert_eq!(
            accounts.assume_role(&session, &hour, 0.0).unwrap().caller.account,
            "345678901234"
        );
    }

    #[test]
    fn the_credential_cap_shortens_sessions_and_a_reset_restores_the_flags() {
        let accounts = Accounts::new("123456789012", &[RoleConfig::new(TEAM_A)], Some(5));
        let user = Caller::user("123456789012", "x");
        let issued = accounts.assume_role(&user, &request(TEAM_A), 10.0).unwrap();
        assert_eq!(issued.expiration, 15.0);
        accounts.set_credential_seconds(None).unwrap();
        assert!(accounts.set_credential_seconds(Some(0)).is_err());
        accounts
            .add_role(RoleConfig::new("arn:aws:iam::345678901234:role/b"))
            .unwrap();
        assert!(accounts.add_role(RoleConfig::new("not-an-arn")).is_err());
        assert_eq!(accounts.roles().len(), 2);
        accounts.reset();
        assert_eq!(accounts.credential_seconds(), Some(5));
        assert_eq!(accounts.roles().len(), 1);
        // The session outlives the reset.
        assert!(matches!(
            accounts.authenticate(Some(&issued.access_key_id), 11.0),
            Authentication::Valid(_)
        ));
    }

    #[test]
    fn arn_accounts_and_principal_accounts() {
        assert_eq!(
            arn_account("arn:aws:ecs:us-east-1:210987654321:service/default/web"),
            Some("210987654321")
        );
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_account("web"), None);
        assert_eq!(principal_account("123456789012"), Some("123456789012"));
        assert_eq!(
            principal_account("arn:aws:sts::123456789012:assumed-role/a/b"),
            Some("123456789012")
        );
        assert_eq!(principal_account("arn:aws:ecs::123456789012:x"), None);
    }
}

//! The controller's own AWS account, learned from STS GetCallerIdentity in the background.
//!
//! Data flow: a caller asks [`OwnAccount::begin`], which decides from the state and the clock
//! ([`next`], pure) whether the account is known, unknown for now, or must be asked for; only the
//! caller that moves the state to [`State::Asking`] starts the one lookup task ([`OwnAccount::spawn_lookup`]),
//! which writes the answer back. Callers wait for an answer only up to [`GRACE`] after the lookup
//! started, on a watch channel, never on a lock held across the network call: with STS blackholed,
//! a reconcile waits at most that long once, then goes on without the account (the documented
//! fallback: only namespaces with a role get the account check).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use tokio::sync::watch;

use super::error::classify;
use crate::metrics::Metrics;

/// How long a failed GetCallerIdentity is kept before runway asks again.
pub const RETRY: Duration = Duration::from_secs(600);

/// How long after a lookup started its callers wait for the answer. STS answers in well under
/// this; a slower STS leaves callers without the account instead of holding their reconciles.
pub const GRACE: Duration = Duration::from_millis(500);

/// What runway knows of its own account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    /// Nobody has asked yet.
    Unknown,
    /// A lookup is in flight since this time.
    Asking(Instant),
    /// GetCallerIdentity answered.
    Known(String),
    /// GetCallerIdentity failed at this time.
    Failed(Instant),
}

/// What a caller does next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Answer at once: the account, or `None` (unknown for now).
    Answer(Option<String>),
    /// Start the lookup, then wait for it until the grace period ends.
    Ask,
    /// Wait for the lookup in flight until this time.
    WaitUntil(Instant),
}

/// The next step of a caller that finds `state` at `now`.
pub fn next(state: &State, now: Instant) -> Next {
    match state {
        State::Known(account) => Next::Answer(Some(account.clone())),
        State::Failed(at) if now.saturating_duration_since(*at) < RETRY => Next::Answer(None),
        State::Asking(since) if now < *since + GRACE => Next::WaitUntil(*since + GRACE),
        State::Asking(_) => Next::Answer(None),
        State::Unknown | State::Failed(_) => Next::Ask,
    }
}

/// The own account, shared by every caller and the lookup task.
#[derive(Debug)]
pub struct OwnAccount {
    state: watch::Sender<State>,
}

impl Default for OwnAccount {
    fn default() -> Self {
        Self {
            state: watch::Sender::new(State::Unknown),
        }
    }
}

impl OwnAccount {
    /// The account when known, without asking anyone.
    pub fn known(&self) -> Option<String> {
        match &*self.state.borrow() {
            State::Known(account) => Some(account.clone()),
            _ => None,
        }
    }

    /// Decides the caller's next step at `now`; when it is [`Next::Ask`], the state is already
    /// [`State::Asking`], so no other caller asks too, and the caller must start the lookup.
    pub fn begin(&self, now: Instant) -> Next {
        let mut step = Next::Answer(None);
        self.state.send_if_modified(|state| {
            step = next(state, now);
            if step == Next::Ask {
                *state = State::Asking(now);
            }
            step == Next::Ask
        });
        step
    }

    /// Waits for the lookup in flight until its grace period ends, then answers with what is
    /// known.
    pub async fn wait(&self) -> Option<String> {
        let mut changes = self.state.subscribe();
        let since = match &*changes.borrow_and_update() {
            State::Asking(since) => *since,
            _ => return self.known(),
        };
        let deadline = tokio::time::Instant::from_std(since + GRACE);
        let answered = changes.wait_for(|s| !matches!(s, State::Asking(_)));
        let _ = tokio::time::timeout_at(deadline, answered).await;
        self.known()
    }

    /// Starts the one lookup: GetCallerIdentity with `config` (the controller's own identity), its
    /// answer written back for every caller.
    pub fn spawn_lookup(self: &Arc<Self>, config: SdkConfig, metrics: Metrics) {
        let own = Arc::clone(self);
        tokio::spawn(async move {
            let account = lookup(&config, &metrics).await;
            own.state.send_replace(match account {
                Some(account) => State::Known(account),
                None => State::Failed(Instant::now()),
            });
        });
    }
}

/// Asks STS who the controller is; `None` when STS cannot say.
async fn lookup(config: &SdkConfig, metrics: &Metrics) -> Option<String> {
    let sts = aws_sdk_sts::Client::new(config);
    match sts.get_caller_identity().send().await {
        Ok(out) => {
            metrics.aws_call("sts", "GetCallerIdentity", "ok");
            out.account().map(str::to_string)
        }
        Err(err) => {
            let (kind, code, message) = classify(&err);
            metrics.aws_call("sts", "GetCallerIdentity", kind.label());
            tracing::warn!(%code, %message, "cannot learn the controller's own account (STS GetCallerIdentity); \
                until it can, namespaces without runway.dev/aws-role-arn are served unchecked, or refused \
                (OwnAccountUnknown) under --allowed-account-ids; asking again in 10 minutes");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_caller_asks_the_others_wait_out_the_grace_period_then_answer_unknown() {
        let t0 = Instant::now();
        assert_eq!(next(&State::Unknown, t0), Next::Ask);
        let asking = State::Asking(t0);
        assert_eq!(next(&asking, t0), Next::WaitUntil(t0 + GRACE));
        assert_eq!(next(&asking, t0 + GRACE), Next::Answer(None));
        assert_eq!(
            next(&State::Known("123456789012".into()), t0),
            Next::Answer(Some("123456789012".into()))
        );
    }

    #[test]
    fn a_failure_is_kept_for_the_retry_interval_then_asked_again() {
        let t0 = Instant::now();
        let failed = State::Failed(t0);
        assert_eq!(next(&failed, t0 + RETRY / 2), Next::Answer(None));
        assert_eq!(next(&failed, t0 + RETRY), Next::Ask);
    }

    #[test]
    fn only_the_first_caller_begins_a_lookup() {
        let own = OwnAccount::default();
        let t0 = Instant::now();
        assert_eq!(own.begin(t0), Next::Ask);
        assert_eq!(own.begin(t0), Next::WaitUntil(t0 + GRACE));
        assert_eq!(own.begin(t0 + GRACE), Next::Answer(None));
        assert_eq!(own.known(), None);
    }
}

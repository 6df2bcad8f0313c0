//! Leader election on a `coordination.k8s.io` Lease, through `kube-lease-manager`.
//!
//! A replica waits in [`Leadership::acquire`] until it holds the Lease, then runs the controllers.
//! If it ever loses the Lease it stops at once (the caller exits and Kubernetes restarts it as a
//! follower), so two replicas never call AWS or write status at the same time. On a clean shutdown
//! the Lease is released so that a follower takes over without waiting for it to expire.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// Where the Lease lives and how long it is held.
#[derive(Clone, Debug)]
pub struct LeaseSettings {
    /// The Lease name.
    pub name: String,
    /// The Lease namespace.
    pub namespace: String,
    /// This replica's identity (the pod name).
    pub identity: String,
    /// Seconds the Lease is held without renewal before another replica may take it.
    pub duration_seconds: u64,
}

/// A held Lease.
pub struct Leadership {
    state: watch::Receiver<bool>,
    task: JoinHandle<kube_lease_manager::Result<LeaseManager>>,
}

impl Leadership {
    /// Waits until this replica holds the Lease.
    pub async fn acquire(client: Client, settings: &LeaseSettings) -> Result<Self> {
        let grace = (settings.duration_seconds / 3).max(1);
        let manager = LeaseManagerBuilder::new(client, &settings.name)
            .with_namespace(&settings.namespace)
            .with_identity(&settings.identity)
            .with_duration(settings.duration_seconds)
            .with_grace(grace)
            .with_field_manager(super::FIELD_MANAGER)
            .build()
            .await
            .map_err(|e| Error::Leader(e.to_string()))?;
        let (mut state, task) = manager.watch().await;
        tracing::info!(lease = %settings.name, namespace = %settings.namespace, identity = %settings.identity, "waiting to become the leader");
        while !*state.borrow_and_update() {
            state
                .changed()
                .await
                .map_err(|_| Error::Leader("the lease manager stopped".into()))?;
        }
        tracing::info!(identity = %settings.identity, "became the leader");
        Ok(Self { state, task })
    }

    /// Resolves when this replica no longer holds the Lease.
    pub async fn lost(&mut self) {
        loop {
            if !*self.state.borrow_and_update() {
                return;
            }
            if self.state.changed().await.is_err() {
                return;
            }
        }
    }

    /// Releases the Lease so a follower can take over at once.
    pub async fn release(self) {
        let Self { state, task } = self;
        drop(state);
        match tokio::time::timeout(Duration::from_secs(5), task).await {
            Ok(Ok(Ok(_))) => tracing::info!("released the leader lease"),
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "could not release the leader lease"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the lease manager task failed"),
            Err(_) => tracing::warn!("timed out releasing the leader lease"),
        }
    }
}

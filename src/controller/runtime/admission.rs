//! Admission: how many reconciles of each class (changes, background) run at once and wait inside
//! kube-runtime's runner, so that neither class can hold up the other and the runner stays small;
//! and no tenant (namespace) holds more than half of a class's slots, so that one namespace's
//! hundreds of failing resources never hold up everyone else's creates and deletes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::aws::budget::Priority;

/// How many reconciles of one class may be inside kube-runtime's runner at once (running, or
/// waiting for a slot), per slot of that class.
pub const ROOM_PER_SLOT: usize = 4;

/// The admission of one class of reconciles: `slots` bounds those that run, `room` those inside
/// kube-runtime's runner (running or waiting for a slot).
///
/// NB: the runner is bounded to both classes' room (see [`runner_concurrency`]), because it keeps
/// a hash-table entry of about 750 bytes per reconcile in flight, and its table never shrinks: an
/// unbounded runner that once held 5,000 reconciles kept 6 MB. Once its class's room is full, a
/// reconcile goes back to the queue for a few seconds instead of waiting, so that neither class can
/// fill the runner and hold up the other.
pub struct Pool {
    slots: Semaphore,
    room: Semaphore,
    /// How many of the slots one tenant may hold at once: half, at least one.
    share: usize,
    /// Each tenant's share, by namespace.
    tenants: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Pool {
    fn new(slots: u16) -> Self {
        let slots = usize::from(slots.max(1));
        Self {
            slots: Semaphore::new(slots),
            room: Semaphore::new(slots * ROOM_PER_SLOT),
            share: (slots / 2).max(1),
            tenants: Mutex::default(),
        }
    }

    /// Takes a place in `tenant`'s share and in the room, and waits for a slot; `None` at once when
    /// the tenant holds its share or the room is full.
    async fn admit(&self, tenant: &str) -> Option<Admitted<'_>> {
        let share = {
            let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
            let share = tenants
                .entry(tenant.to_string())
                .or_insert_with(|| Arc::new(Semaphore::new(self.share)));
            Arc::clone(share)
        };
        let tenant = share.try_acquire_owned().ok()?;
        let room = self.room.try_acquire().ok()?;
        // NB: the semaphores are never closed.
        let slot = self.slots.acquire().await.ok()?;
        Some(Admitted {
            _tenant: tenant,
            _room: room,
            _slot: slot,
        })
    }
}

/// An admitted reconcile: it keeps its tenant's place, its place in the room and its slot until
/// dropped.
pub struct Admitted<'a> {
    _tenant: OwnedSemaphorePermit,
    _room: tokio::sync::SemaphorePermit<'a>,
    _slot: tokio::sync::SemaphorePermit<'a>,
}

/// kube-runtime's runner limit for `concurrency` slots per class: both classes' room.
pub fn runner_concurrency(concurrency: u16) -> u16 {
    let room = usize::from(concurrency.max(1)) * ROOM_PER_SLOT * 2;
    u16::try_from(room).unwrap_or(u16::MAX)
}

/// When a reconcile whose class's room is full comes back: 1 to 5 s, spread so that the deferred
/// reconciles do not return together.
pub fn deferred_requeue() -> Duration {
    Duration::from_secs_f64(1.0 + rand::random::<f64>() * 4.0)
}

/// The two classes' pools.
pub struct Admission {
    /// Admits reconciles of changes.
    changes: Pool,
    /// Admits background reconciles (resyncs, progress polls).
    background: Pool,
}

impl Admission {
    /// `concurrency` reconciles of each class run at once.
    pub fn new(concurrency: u16) -> Self {
        Self {
            changes: Pool::new(concurrency),
            background: Pool::new(concurrency),
        }
    }

    /// Waits for a reconcile slot of the class of `priority` for a resource of `tenant` (its
    /// namespace); the two classes never wait for each other, so background work never holds up a
    /// change. `None` when the class's room is full or the tenant holds its share: the caller
    /// defers the reconcile (see [`deferred_requeue`]).
    pub async fn admit(&self, priority: Priority, tenant: &str) -> Option<Admitted<'_>> {
        let pool = match priority {
            Priority::Change => &self.changes,
            Priority::Background => &self.background,
        };
        pool.admit(tenant).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_class_runs_its_slots_keeps_its_room_waiting_and_defers_the_rest() {
        let pool = Pool::new(2);
        let mut running = Vec::new();
        let tenants: Vec<String> = (0..9).map(|i| format!("ns-{i}")).collect();
        for tenant in &tenants[..2] {
            running.push(pool.admit(tenant).await.expect("a free slot"));
        }
        // 2 running; 6 more may wait for a slot, the 9th is deferred at once.
        let waiting: Vec<_> = tenants[2..8].iter().map(|t| Box::pin(pool.admit(t))).collect();
        let mut waiting: Vec<_> = waiting
            .into_iter()
            .map(|mut f| {
                assert!(
                    futures::FutureExt::now_or_never(f.as_mut()).is_none(),
                    "waits for a slot"
                );
                f
            })
            .collect();
        assert!(
            pool.admit(&tenants[8]).await.is_none(),
            "the room is full: deferred"
        );
        drop(running.pop());
        let admitted = waiting.remove(0).await;
        assert!(admitted.is_some(), "a freed slot admits a waiting reconcile");
        assert_eq!(runner_concurrency(2), 16);
        assert_eq!(runner_concurrency(u16::MAX), u16::MAX);
    }

    #[tokio::test]
    async fn one_tenant_holds_at_most_half_the_slots_and_others_still_get_theirs() {
        let pool = Pool::new(4);
        let mut held = Vec::new();
        for _ in 0..2 {
            held.push(pool.admit("noisy").await.expect("within its share"));
        }
        assert!(pool.admit("noisy").await.is_none(), "over its share: deferred");
        let quiet = pool.admit("quiet").await;
        assert!(quiet.is_some(), "another tenant still gets a slot");
        drop(held.pop());
        assert!(
            pool.admit("noisy").await.is_some(),
            "a freed place is the tenant's again"
        );
    }
}

//! The scale machinery behind one door, so that the reconcile entry reads like controller-rs:
//!
//! - [`admission`]: the change and background classes' slots and room in kube-runtime's runner;
//! - [`bookkeeping`]: every per-object map in one place, and the one door out of all of them for
//!   an object that is gone;
//! - [`cache`]: the compact (LZ4, dictionary) store of watched objects, decoded only when admitted;
//! - [`first_sight`]: settled resources spread their first check after a start, and the trigger
//!   hash of each object's last successful reconcile;
//! - [`keyed`]: the locked map by object key that each of those maps is;
//! - [`queue`]: the queue-depth metric;
//! - [`quiet`]: one WARN line per failure and object, not one per retry;
//! - [`states`]: each live object's latest state, counted as `runway_resources`;
//! - [`written`]: read your writes, the last status written per object until the cache shows it.

pub mod admission;
pub mod bookkeeping;
pub mod cache;
pub mod first_sight;
pub mod keyed;
pub mod queue;
pub mod quiet;
pub mod states;
pub mod written;

//! IAM propagation: a role created moments ago cannot be assumed by AWS for a while. Right after a
//! team applies its roles and its service in one sync, ECS refuses the create with
//! `AccessDeniedException` "... Cannot assume role" and App Runner with `InvalidRequestException`
//! "Error in assuming instance role ..." (`docs/aws-behaviour.md`, E12 and A17). An injected role is
//! refused until a number of simulated seconds after the first call that used it.

use std::collections::HashMap;

use crate::clock::Timestamp;

/// Roles that AWS cannot use yet.
#[derive(Clone, Debug, Default)]
pub struct Propagation {
    roles: HashMap<String, (f64, Option<Timestamp>)>,
}

impl Propagation {
    /// Makes `role` unusable until `seconds` after its first use.
    pub fn inject(&mut self, role: &str, seconds: f64) {
        self.roles.insert(role.to_string(), (seconds, None));
    }

    /// Forgets every injection.
    pub fn clear(&mut self) {
        self.roles.clear();
    }

    /// The first of `roles` that AWS cannot use at `now`; starts each one's window on first use.
    pub fn refused<'a>(
        &mut self,
        roles: impl IntoIterator<Item = &'a str>,
        now: Timestamp,
    ) -> Option<String> {
        roles.into_iter().find_map(|role| {
            let (seconds, first) = self.roles.get_mut(role)?;
            let since = *first.get_or_insert(now);
            (now < since + *seconds).then(|| role.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_refused_until_its_window_after_first_use() {
        let mut p = Propagation::default();
        p.inject("r", 10.0);
        assert_eq!(p.refused(["x"], 0.0), None);
        assert_eq!(p.refused(["x", "r"], 100.0), Some("r".into()));
        assert_eq!(p.refused(["r"], 109.0), Some("r".into()));
        assert_eq!(p.refused(["r"], 110.0), None);
    }
}

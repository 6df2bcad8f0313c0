//! What the answers of a newer AWS than the SDKs know have in common, shared by `ecs::newer`
//! (docs/aws-behaviour.md E36) and `apprunner::newer` (A27): a member that no model declares,
//! added to a structure. Each service names the member in its own protocol's case.

use serde_json::{Value, json};

/// Adds the member `name`, which no model declares, to `object` when it is a structure: a value
/// with nested lists, strings, booleans and numbers, so that a client has to skip all of them.
pub fn add_unknown_member(object: &mut Value, name: &str) {
    if let Value::Object(map) = object {
        map.insert(
            name.into(),
            json!({ "nested": [1, "two", { "three": true }], "at": 1.5 }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_member_to_structures_only() {
        let mut object = json!({"a": 1});
        add_unknown_member(&mut object, "x");
        assert!(object["x"]["nested"].is_array());
        let mut list = json!([1]);
        add_unknown_member(&mut list, "x");
        assert_eq!(list, json!([1]));
    }
}

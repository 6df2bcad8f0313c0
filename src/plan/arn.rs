//! Amazon Resource Names: `arn:<partition>:<service>:<region>:<account>:<resource>`. The one place
//! runway splits an ARN; the account check, the Region pinning and the role validation read its
//! fields from here.

/// The fields of an ARN, borrowed from the string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// `ecs`, `apprunner`, `iam`, `sts`, ...
    pub service: &'a str,
    /// The Region; empty for global services such as IAM.
    pub region: &'a str,
    /// The account ID; see [`Arn::account_id`] for a checked one.
    pub account: &'a str,
    /// Everything after the account (`service/default/web`, `role/path/name`); it may contain `:`.
    /// Empty when the string ends after the account.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `s` into its fields: it must start with `arn:` and have at least the partition,
    /// service, Region and account fields (each may be empty). Nothing else is checked here.
    pub fn parse(s: &'a str) -> Option<Arn<'a>> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource: parts.next().unwrap_or_default(),
        })
    }

    /// The account, when it is a 12-digit account ID.
    pub fn account_id(&self) -> Option<&'a str> {
        (self.account.len() == 12 && self.account.bytes().all(|b| b.is_ascii_digit())).then_some(self.account)
    }

    /// The Region, when the ARN names one.
    pub fn region(&self) -> Option<&'a str> {
        (!self.region.is_empty()).then_some(self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_arn_splits_into_its_fields() {
        let arn = Arn::parse("arn:aws:ecs:us-east-1:123456789012:service/default/web").expect("arn");
        assert_eq!(
            arn,
            Arn {
                partition: "aws",
                service: "ecs",
                region: "us-east-1",
                account: "123456789012",
                resource: "service/default/web",
            }
        );
        assert_eq!(arn.account_id(), Some("123456789012"));
        assert_eq!(arn.region(), Some("us-east-1"));
    }

    #[test]
    fn the_resource_keeps_its_colons_and_iam_has_no_region() {
        let arn = Arn::parse("arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/web:*").expect("arn");
        assert_eq!(arn.resource, "log-group:/ecs/web:*");
        let role = Arn::parse("arn:aws-us-gov:iam::210987654321:role/platform/runway").expect("arn");
        assert_eq!(role.partition, "aws-us-gov");
        assert_eq!(role.service, "iam");
        assert_eq!(role.region(), None);
        assert_eq!(role.account_id(), Some("210987654321"));
        assert_eq!(role.resource, "role/platform/runway");
    }

    #[test]
    fn fewer_than_five_fields_or_another_prefix_is_not_an_arn() {
        assert_eq!(Arn::parse("not-an-arn"), None);
        assert_eq!(Arn::parse(""), None);
        assert_eq!(Arn::parse("arn:aws:ecs:us-east-1"), None);
        assert_eq!(Arn::parse("urn:aws:ecs:us-east-1:123456789012:service/x"), None);
        assert_eq!(Arn::parse("ARN:aws:ecs:us-east-1:123456789012:service/x"), None);
        let bare = Arn::parse("arn:aws:ecs:us-east-1:123456789012").expect("no resource");
        assert_eq!(bare.resource, "");
        assert_eq!(bare.account_id(), Some("123456789012"));
    }

    #[test]
    fn only_twelve_digits_are_an_account_id() {
        for account in ["abc", "12345678901", "1234567890123", "12345678901a", ""] {
            let text = format!("arn:aws:ecs:us-east-1:{account}:service/x");
            assert_eq!(Arn::parse(&text).expect("arn").account_id(), None, "{account}");
        }
    }
}

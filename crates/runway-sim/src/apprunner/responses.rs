//! The error replies and the paging every App Runner action shares: the service actions
//! (`actions`), the auto scaling configuration actions (`scaling`) and the VPC connector actions
//! (`vpc`).

use serde_json::{Value, json};

use crate::wire::AwsError;

pub(super) fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::new("InvalidRequestException", message)
}

pub(super) fn not_found(arn: &str) -> AwsError {
    AwsError::new("ResourceNotFoundException", format!("Resource not found: {arn}"))
}

/// Decodes `NextToken` and `MaxResults` (1 to `max`, all results when unset) into the start offset
/// and the page size.
pub(super) fn page_within(
    next_token: Option<&str>,
    max_results: Option<i64>,
    max: i64,
) -> Result<(usize, usize), AwsError> {
    let size = match max_results {
        None => usize::MAX,
        Some(n) if (1..=max).contains(&n) => usize::try_from(n).unwrap_or(usize::MAX),
        Some(n) => {
            return Err(invalid(format!(
                "MaxResults must be between 1 and {max}, got {n}."
            )));
        }
    };
    let offset = match next_token {
        None | Some("") => 0,
        Some(token) => token
            .strip_prefix("page-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| invalid("The NextToken is not valid."))?,
    };
    Ok((offset, size))
}

pub(super) fn paged(items: Vec<Value>, offset: usize, size: usize, key: &str) -> Value {
    let total = items.len();
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    let mut out = json!({ key: page });
    let next = offset.saturating_add(size);
    if next < total {
        out["NextToken"] = json!(format!("page-{next}"));
    }
    out
}

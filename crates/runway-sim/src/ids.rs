//! Random identifiers in the formats AWS uses: UUIDs for App Runner operations, 32-hex-digit App
//! Runner service IDs, the short random tokens in ECS ARNs and endpoints, and the base32 access
//! key IDs STS issues.

use rand::RngExt;

/// `n` random lowercase hex digits.
pub fn hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// `n` random lowercase letters and digits.
pub fn alphanumeric(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// The characters of AWS's unique IDs and access key IDs (RFC 4648 base32: `A`–`Z`, `2`–`7`).
pub const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// `n` random base32 characters, as in an access key ID (`ASIA` + 16 of them).
pub fn base32(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(BASE32[rng.random_range(0..BASE32.len())]))
        .collect()
}

/// A random version 4 UUID, such as App Runner's `OperationId`.
pub fn uuid_v4() -> String {
    let raw = hex(32);
    let variant = ['8', '9', 'a', 'b'][rand::rng().random_range(0..4)];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &raw[0..8],
        &raw[8..12],
        &raw[13..16],
        variant,
        &raw[17..20],
        &raw[20..32]
    )
}

/// A random decimal number with `n` digits and no leading zero, like ECS service revision IDs.
pub fn digits(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|i| {
            let low = if i == 0 { 1 } else { 0 };
            char::from_digit(rng.random_range(low..10), 10).unwrap_or('1')
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_have_the_version_and_variant_app_runner_checks() {
        for _ in 0..50 {
            let id = uuid_v4();
            let parts: Vec<_> = id.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(parts[2].starts_with('4'));
            assert!(matches!(parts[3].chars().next(), Some('8' | '9' | 'a' | 'b')));
        }
    }

    #[test]
    fn hex_and_digits_have_the_requested_length() {
        assert_eq!(hex(32).len(), 32);
        assert!(hex(32).chars().all(|c| c.is_ascii_hexdigit()));
        let key = base32(16);
        assert_eq!(key.len(), 16);
        assert!(key.bytes().all(|b| BASE32.contains(&b)));
        let d = digits(19);
        assert_eq!(d.len(), 19);
        assert!(!d.starts_with('0'));
    }
}

//! AWS STS over the awsQuery protocol: AssumeRole and GetCallerIdentity.
//!
//! A query request is `POST /` with an `application/x-www-form-urlencoded` body such as
//! `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…` and no `X-Amz-Target`. The
//! answer is XML in the namespace [`NAMESPACE`] with `Content-Type: text/xml`: on success
//! `<{Action}Response>` wrapping `<{Action}Result>` and `<ResponseMetadata><RequestId>`, on failure
//! `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>
//! <RequestId>…</RequestId></ErrorResponse>` with the error's HTTP status (docs/aws-behaviour.md X7,
//! X8).
//!
//! Data flow: the server decodes the form ([`parse_form`]), resolves the caller from the signature
//! (`accounts`), and hands the action here ([`handle`]). AssumeRole checks the model's constraints
//! ([`assume_role_request`]) and asks `accounts` for a session; the results and errors are rendered
//! as XML ([`response_body`], [`error_body`]).

use std::collections::BTreeMap;

use super::accounts::{Accounts, AssumeRoleRequest, Caller, IssuedCredentials, MIN_SESSION_SECONDS};
use super::accounts::{MAX_SESSION_SECONDS, is_word, valid_external_id};
use super::wire::AwsError;

/// The XML namespace of every STS response.
pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The protocol version the simulator serves.
pub const VERSION: &str = "2011-06-15";

/// Every action the simulated STS serves.
pub const ACTIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// The response content type.
pub const CONTENT_TYPE: &str = "text/xml";

/// A decoded form body: parameter name to value (the last one wins when a name repeats).
pub type Form = BTreeMap<String, String>;

/// Decodes an `application/x-www-form-urlencoded` body: `&`-separated `name=value` pairs,
/// percent-encoded, `+` for a space. A broken escape or invalid UTF-8 is AWS's
/// `MalformedQueryString` (HTTP 404, as AWS's common errors list it).
pub fn parse_form(body: &[u8]) -> Result<Form, AwsError> {
    let malformed = || {
        AwsError::with_status(
            "MalformedQueryString",
            "The query string contains a syntax error.",
            404,
        )
    };
    let text = std::str::from_utf8(body).map_err(|_| malformed())?;
    let mut form = Form::new();
    for pair in text.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(name).ok_or_else(malformed)?;
        let value = percent_decode(value).ok_or_else(malformed)?;
        form.insert(name, value);
    }
    Ok(form)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Escapes text for an XML element. Characters XML 1.0 cannot carry at all (most control
/// characters) become U+FFFD, so an echoed invalid input never breaks the document.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// A successful response: `<{action}Response>` around the result element and the request ID.
pub fn response_body(action: &str, result: &str, request_id: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
         <ResponseMetadata>{}</ResponseMetadata></{action}Response>",
        element("RequestId", request_id)
    )
}

/// An error response. `Type` is `Receiver` for server errors and `Sender` for the rest.
pub fn error_body(error: &AwsError, request_id: &str) -> String {
    let kind = if error.status >= 500 { "Receiver" } else { "Sender" };
    format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error>{}{}{}</Error>{}</ErrorResponse>",
        element("Type", kind),
        element("Code", error.code),
        element("Message", &error.message),
        element("RequestId", request_id)
    )
}

/// The error for session credentials past their expiration, in STS's spelling.
pub fn expired_token() -> AwsError {
    AwsError::with_status(
        "ExpiredToken",
        "The security token included in the request is expired",
        403,
    )
}

/// The error for a temporary access key STS does not know.
pub fn invalid_client_token_id() -> AwsError {
    AwsError::with_status(
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
        403,
    )
}

/// Checks `Action` and `Version` and returns the action. A missing action is `MissingAction`; an
/// action or version the simulator does not serve is `InvalidAction` (AWS's common query errors).
pub fn action(form: &Form) -> Result<&str, AwsError> {
    let action = form.get("Action").filter(|a| !a.is_empty()).ok_or_else(|| {
        AwsError::new(
            "MissingAction",
            "The request is missing an action or a required parameter.",
        )
    })?;
    let version = form.get("Version").map_or(VERSION, String::as_str);
    if !ACTIONS.contains(&action.as_str()) || version != VERSION {
        return Err(AwsError::new(
            "InvalidAction",
            format!("Could not find operation {action} for version {version}"),
        ));
    }
    Ok(action)
}

/// Runs one STS action for an authenticated caller at wall-clock time `now`; returns the XML of
/// the result element's content.
pub fn handle(
    accounts: &Accounts,
    caller: &Caller,
    action: &str,
    form: &Form,
    now: f64,
) -> Result<String, AwsError> {
    match action {
        "AssumeRole" => {
            let request = assume_role_request(form)?;
            let issued = accounts.assume_role(caller, &request, now)?;
            Ok(assume_role_result(&issued))
        }
        "GetCallerIdentity" => Ok(format!(
            "{}{}{}",
            element("Arn", &caller.arn),
            element("UserId", &caller.user_id),
            element("Account", &caller.account)
        )),
        other => Err(AwsError::new(
            "InvalidAction",
            format!("Could not find operation {other} for version {VERSION}"),
        )),
    }
}

fn assume_role_result(issued: &IssuedCredentials) -> String {
    // NB: whole seconds in UTC, as AWS writes them: `2026-12-02T05:48:50Z`.
    let expiration = jiff::Timestamp::from_second(issued.expiration as i64)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    format!(
        "<Credentials>{}{}{}{}</Credentials><AssumedRoleUser>{}{}</AssumedRoleUser>",
        element("AccessKeyId", &issued.access_key_id),
        element("SecretAccessKey", &issued.secret_access_key),
        element("SessionToken", &issued.session_token),
        element("Expiration", &expiration),
        element("AssumedRoleId", &issued.caller.user_id),
        element("Arn", &issued.caller.arn),
    )
}

/// The model's patterns, as AWS quotes them in validation errors.
const ARN_PATTERN: &str =
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+";
const SESSION_NAME_PATTERN: &str = r"[\w+=,.@-]*";
const EXTERNAL_ID_PATTERN: &str = r"[\w+=,.@:\/-]*";

/// The characters the model's `arnType` pattern allows.
fn arn_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{85}' | '\u{A0}'..='\u{D7FF}')
        || matches!(c, '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// The constraint violations of one string member, in AWS's validation wording.
fn check_string(
    errors: &mut Vec<String>,
    member: &str,
    value: &str,
    (min, max): (usize, usize),
    pattern: (&str, fn(char) -> bool),
) {
    // NB: AWS counts characters, not bytes.
    let length = value.chars().count();
    if length < min {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length \
             greater than or equal to {min}"
        ));
    }
    if length > max {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must have length \
             less than or equal to {max}"
        ));
    }
    if !value.chars().all(pattern.1) {
        errors.push(format!(
            "Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy \
             regular expression pattern: {}",
            pattern.0
        ));
    }
}

/// Reads AssumeRole's parameters and checks them against the model: `RoleArn` 20–2048 characters,
/// `RoleSessionName` 2–64 of `[\w+=,.@-]`, `ExternalId` 2–1224 of `[\w+=,.@:/-]`,
/// `DurationSeconds` 900–43200, a session `Policy` that is a JSON object, and the session's
/// `SourceIdentity` and `Tags` ([`session_extras`]). Every violation is listed in one
/// `ValidationError`, as AWS does; a policy that is not JSON is `MalformedPolicyDocument`. Other
/// members (`PolicyArns`, `TransitiveTagKeys`, …) are accepted and ignored.
pub fn assume_role_request(form: &Form) -> Result<AssumeRoleRequest, AwsError> {
    let mut errors = Vec::new();
    let role_arn = form.get("RoleArn");
    let session_name = form.get("RoleSessionName");
    let external_id = form.get("ExternalId");
    match role_arn {
        None => errors.push(null_member("roleArn")),
        Some(arn) => check_string(&mut errors, "roleArn", arn, (20, 2048), (ARN_PATTERN, arn_char)),
    }
    match session_name {
        None => errors.push(null_member("roleSessionName")),
        Some(name) => check_string(
            &mut errors,
            "roleSessionName",
            name,
            (2, 64),
            (SESSION_NAME_PATTERN, |c| is_word(c) || "+=,.@-".contains(c)),
        ),
    }
    if let Some(id) = external_id
        && !valid_external_id(id)
    {
        check_string(
            &mut errors,
            "externalId",
            id,
            (2, 1224),
            (EXTERNAL_ID_PATTERN, |c| is_word(c) || "+=,.@:/-".contains(c)),
        );
    }
    let duration_seconds = match form.get("DurationSeconds") {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n < MIN_SESSION_SECONDS as i64 => {
                errors.push(format!(
                    "Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must \
                     have value greater than or equal to {MIN_SESSION_SECONDS}"
                ));
                None
            }
            Ok(n) if n > MAX_SESSION_SECONDS as i64 => {
                errors.push(format!(
                    "Value '{n}' at 'durationSeconds' failed to satisfy constraint: Member must \
                     have value less than or equal to {MAX_SESSION_SECONDS}"
                ));
                None
            }
            Ok(n) => u64::try_from(n).ok(),
            Err(_) => {
                errors.push(format!(
                    "Value '{raw}' at 'durationSeconds' failed to satisfy constraint: Member must \
                     be an integer"
                ));
                None
            }
        },
    };
    let (source_identity, tags) = session_extras(form, &mut errors);
    if let Some(policy) = form.get("Policy")
        && policy.is_empty()
    {
        errors.push(
            "Value '' at 'policy' failed to satisfy constraint: Member must have length greater \
             than or equal to 1"
                .to_string(),
        );
    }
    if !errors.is_empty() {
        let count = errors.len();
        let noun = if count == 1 { "error" } else { "errors" };
        return Err(AwsError::new(
            "ValidationError",
            format!("{count} validation {noun} detected: {}", errors.join("; ")),
        ));
    }
    if let Some(policy) = form.get("Policy")
        && !matches!(serde_json::from_str(policy), Ok(serde_json::Value::Object(_)))
    {
        return Err(AwsError::new(
            "MalformedPolicyDocument",
            "The policy is not in the valid JSON format.",
        ));
    }
    Ok(AssumeRoleRequest {
        role_arn: role_arn.cloned().unwrap_or_default(),
        session_name: session_name.cloned().unwrap_or_default(),
        external_id: external_id.cloned(),
        duration_seconds,
        source_identity,
        tags,
    })
}

/// The most session tags AssumeRole takes.
pub const MAX_SESSION_TAGS: usize = 50;

/// The characters of the model's `tagKeyType` and `tagValueType` patterns.
const TAG_PATTERN: &str = r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*";

fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Reads AssumeRole's `SourceIdentity` (2–64 of `[\w+=,.@-]`) and `Tags` (`Tags.member.N.Key`
/// and `.Value`: at most 50, keys 1–128 and values 0–256 characters of letters, digits, spaces and
/// `_.:/=+-@`), adding every violation to `errors`.
pub fn session_extras(form: &Form, errors: &mut Vec<String>) -> (Option<String>, BTreeMap<String, String>) {
    let source_identity = form.get("SourceIdentity").cloned();
    if let Some(id) = &source_identity {
        check_string(
            errors,
            "sourceIdentity",
            id,
            (2, 64),
            (SESSION_NAME_PATTERN, |c| is_word(c) || "+=,.@-".contains(c)),
        );
    }
    let mut tags = BTreeMap::new();
    for n in 1.. {
        let Some(key) = form.get(&format!("Tags.member.{n}.Key")) else {
            break;
        };
        let value = form
            .get(&format!("Tags.member.{n}.Value"))
            .cloned()
            .unwrap_or_default();
        check_string(
            errors,
            &format!("tags.{n}.member.key"),
            key,
            (1, 128),
            (TAG_PATTERN, tag_char),
        );
        check_string(
            errors,
            &format!("tags.{n}.member.value"),
            &value,
            (0, 256),
            (TAG_PATTERN, tag_char),
        );
        tags.insert(key.clone(), value);
    }
    if tags.len() > MAX_SESSION_TAGS {
        errors.push(format!(
            "Value at 'tags' failed to satisfy constraint: Member must have length less than or \
             equal to {MAX_SESSION_TAGS}"
        ));
    }
    (source_identity, tags)
}

fn null_member(member: &str) -> String {
    format!("Value null at '{member}' failed to satisfy constraint: Member must not be null")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::RoleConfig;

    fn form(pairs: &[(&str, &str)]) -> Form {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn forms_decode_percent_escapes_and_plus() {
        let decoded = parse_form(
            b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A210987654321%3Arole%2Fa\
              &RoleSessionName=a+b&Empty=&Flag&ExternalId=%E2%9C%93",
        )
        .unwrap();
        assert_eq!(decoded["RoleArn"], "arn:aws:iam::210987654321:role/a");
        assert_eq!(decoded["RoleSessionName"], "a b");
        assert_eq!(decoded["Empty"], "");
        assert_eq!(decoded["Flag"], "");
        assert_eq!(decoded["ExternalId"], "✓");
        assert!(parse_form(b"").unwrap().is_empty());
        for bad in [&b"A=%4"[..], b"A=%zz", b"A=%FF", b"\xff=1"] {
            let error = parse_form(bad).unwrap_err();
            assert_eq!((error.code, error.status), ("MalformedQueryString", 404));
        }
    }

    #[test]
    fn xml_escapes_markup_and_drops_characters_xml_cannot_carry() {
        assert_eq!(
            escape(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
        assert_eq!(escape("tab\there\u{1}"), "tab\there\u{FFFD}");
        let error = AwsError::with_status("AccessDenied", "User: a<b> & c", 403);
        assert_eq!(
            error_body(&error, "req-1"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error>\
             <Type>Sender</Type><Code>AccessDenied</Code><Message>User: a&lt;b&gt; &amp; c</Message>\
             </Error><RequestId>req-1</RequestId></ErrorResponse>"
        );
        let server = AwsError::with_status("InternalFailure", "oops", 500);
        assert!(error_body(&server, "r").contains("<Type>Receiver</Type>"));
    }

    #[test]
    fn responses_wrap_the_result_and_the_request_id() {
        let accounts = Accounts::new(
            "123456789012",
            &[RoleConfig::new("arn:aws:iam::210987654321:role/team-a")],
            None,
        );
        let caller = Caller::user("123456789012", "AKIDSIMULATOR");
        let identity = handle(&accounts, &caller, "GetCallerIdentity", &Form::new(), 0.0).unwrap();
        assert_eq!(
            response_body("GetCallerIdentity", &identity, "r-1"),
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\
             <GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/AKIDSIMULATOR</Arn>\
             <UserId>AKIDSIMULATOR</UserId><Account>123456789012</Account></GetCallerIdentityResult>\
             <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
        );
        let assumed = handle(
            &accounts,
            &caller,
            "AssumeRole",
            &form(&[
                ("RoleArn", "arn:aws:iam::210987654321:role/team-a"),
                ("RoleSessionName", "runway"),
            ]),
            1_700_000_000.2,
        )
        .unwrap();
        assert!(
            assumed.contains("<Expiration>2023-11-14T23:13:21Z</Expiration>"),
            "{assumed}"
        );
        assert!(assumed.contains("<AccessKeyId>ASIA"), "{assumed}");
        assert!(
            assumed.contains("<Arn>arn:aws:sts::210987654321:assumed-role/team-a/runway</Arn>"),
            "{assumed}"
        );
        assert!(assumed.contains("<AssumedRoleId>AROA"), "{assumed}");
    }

    #[test]
    fn actions_and_versions_are_checked() {
        assert_eq!(action(&form(&[("Action", "AssumeRole")])).unwrap(), "AssumeRole");
        assert_eq!(action(&Form::new()).unwrap_err().code, "MissingAction");
        let unknown = form(&[("Action", "GetSessionToken"), ("Version", VERSION)]);
        assert_eq!(
            action(&unknown).unwrap_err().message,
            "Could not find operation GetSessionToken for version 2011-06-15"
        );
        let old = form(&[("Action", "AssumeRole"), ("Version", "2010-01-01")]);
        assert_eq!(action(&old).unwrap_err().code, "InvalidAction");
    }

    #[test]
    fn assume_role_inputs_are_checked_against_the_model() {
        let good = [
            ("RoleArn", "arn:aws:iam::210987654321:role/team-a"),
            ("RoleSessionName", "runway@ns.team-a"),
            ("ExternalId", "xyz:1/2"),
            ("DurationSeconds", "900"),
        ];
        let request = assume_role_request(&form(&good)).unwrap();
        assert_eq!(request.duration_seconds, Some(900));
        assert_eq!(request.external_id.as_deref(), Some("xyz:1/2"));

        let error = assume_role_request(&form(&[("RoleSessionName", "a")])).unwrap_err();
        assert_eq!((error.code, error.status), ("ValidationError", 400));
        assert_eq!(
            error.message,
            "2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: \
             Member must not be null; Value 'a' at 'roleSessionName' failed to satisfy constraint: \
             Member must have length greater than or equal to 2"
        );
        let cases: [(&str, &str, &str); 6] = [
            (
                "RoleArn",
                "arn:aws:iam::1:role",
                "length greater than or equal to 20",
            ),
            (
                "RoleSessionName",
                "team/a",
                "regular expression pattern: [\\w+=,.@-]*",
            ),
            (
                "RoleSessionName",
                &"s".repeat(65),
                "length less than or equal to 64",
            ),
            ("ExternalId", "x", "length greater than or equal to 2"),
            ("DurationSeconds", "899", "value greater than or equal to 900"),
            ("DurationSeconds", "43201", "value less than or equal to 43200"),
        ];
        for (name, value, expected) in cases {
            let mut input = form(&good);
            input.insert(name.to_string(), value.to_string());
            let error = assume_role_request(&input).unwrap_err();
            assert!(
                error.message.starts_with("1 validation error detected: "),
                "{}",
                error.message
            );
            assert!(error.message.ends_with(expected), "{name}: {}", error.message);
        }
        let mut policy = form(&good);
        policy.insert("Policy".into(), "{not json".into());
        assert_eq!(
            assume_role_request(&policy).unwrap_err().code,
            "MalformedPolicyDocument"
        );
        policy.insert("Policy".into(), r#"{"Version": "2012-10-17"}"#.into());
        assert!(assume_role_request(&policy).is_ok());
    }

    #[test]
    fn source_identity_and_session_tags_are_read_and_checked_against_the_model() {
        let mut input = form(&[
            ("RoleArn", "arn:aws:iam::210987654321:role/team-a"),
            ("RoleSessionName", "prod@team-a"),
            ("SourceIdentity", "prod@team-a"),
            ("Tags.member.1.Key", "runway.dev/cluster"),
            ("Tags.member.1.Value", "prod"),
            ("Tags.member.2.Key", "runway.dev/namespace"),
            ("Tags.member.2.Value", "team-a"),
        ]);
        let request = assume_role_request(&input).unwrap();
        assert_eq!(request.source_identity.as_deref(), Some("prod@team-a"));
        assert_eq!(
            request.tags,
            BTreeMap::from([
                ("runway.dev/cluster".to_string(), "prod".to_string()),
                ("runway.dev/namespace".to_string(), "team-a".to_string())
            ])
        );
        input.insert("Tags.member.2.Value".into(), "a,b".into());
        input.insert("SourceIdentity".into(), "x".into());
        let error = assume_role_request(&input).unwrap_err();
        assert!(
            error.message.starts_with("2 validation errors detected: "),
            "{}",
            error.message
        );
        assert!(
            error.message.contains("'tags.2.member.value'"),
            "{}",
            error.message
        );
        assert!(error.message.contains("'sourceIdentity'"), "{}", error.message);
    }
}

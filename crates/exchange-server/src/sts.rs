//! Replaying a checked proof to STS: STS verifies the signature (we hold no secret) and answers
//! who signed it. Blocking (`ureq`); the server calls it in `tokio::task::spawn_blocking`.

use std::fmt;
use std::sync::LazyLock;
use std::time::Duration;

use sigv4_credentials::document::{DocumentError, parse_sts_error, xml_text};

use crate::proof::Checked;

/// An STS answer over this is refused (a `GetCallerIdentity` answer is under 1 KiB).
pub const MAX_ANSWER: u64 = 64 * 1024;

/// Headers never forwarded: hop-by-hop ones (RFC 9110 §7.6.1), which describe our connection
/// to the agent, not the request; and `Content-Length`, which ureq sets from the body it sends.
const NOT_FORWARDED: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// Who signed the proof, as STS answers it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `arn:aws:sts::123456789012:assumed-role/Role/Session`, `arn:aws:iam::...:user/Name`.
    pub arn: String,
    /// `AROA...:Session`, `AIDA...`.
    pub user_id: String,
    /// The 12-digit account id.
    pub account: String,
}

/// Why the replay gave no identity.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsError {
    /// STS refused the proof (400 or 403: signature, expired, denied), with its error.
    Refused {
        /// STS's error code (`SignatureDoesNotMatch`, `ExpiredToken`, ...; `?` when absent).
        code: String,
        /// Its message.
        message: String,
    },
    /// STS answered a redirect (never followed: the proof is for the URL checked).
    Redirected {
        /// The 3xx status.
        status: u16,
    },
    /// STS could not be reached or answered 5xx (or another unexpected status).
    Unavailable {
        /// The status, or 0 when there was no answer.
        status: u16,
        /// What happened (ureq's error, or the status).
        reason: String,
    },
    /// No complete answer within the timeout.
    Timeout,
    /// The answer is over [`MAX_ANSWER`] bytes.
    TooLarge,
    /// A 200 answer without the field named.
    Malformed {
        /// `GetCallerIdentityResult`, `Arn`, `UserId` or `Account`.
        field: &'static str,
    },
}

impl StsError {
    /// A stable name for the failure, in snake case.
    pub fn code(&self) -> &'static str {
        match self {
            StsError::Refused { .. } => "sts_refused",
            StsError::Redirected { .. } => "sts_redirected",
            StsError::Unavailable { .. } => "sts_unavailable",
            StsError::Timeout => "sts_timeout",
            StsError::TooLarge => "sts_answer_too_large",
            StsError::Malformed { .. } => "sts_malformed",
        }
    }
}

impl fmt::Display for StsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StsError::Refused { code, message } => {
                write!(f, "STS refused the proof: {code} {message}")
            }
            StsError::Redirected { status } => write!(f, "STS answered a redirect ({status})"),
            StsError::Unavailable { reason, .. } => write!(f, "STS is unavailable: {reason}"),
            StsError::Timeout => f.write_str("STS did not answer in time"),
            StsError::TooLarge => write!(f, "STS's answer is over {MAX_ANSWER} bytes"),
            StsError::Malformed { field } => write!(f, "STS's answer has no {field}"),
        }
    }
}

impl std::error::Error for StsError {}

/// One agent for every replay (its connection pool and TLS configuration are shared): no
/// redirects, statuses read rather than turned into errors, so STS's error body is ours.
static AGENT: LazyLock<ureq::Agent> = LazyLock::new(|| {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .new_agent()
});

/// Sends the checked proof to its URL as it was signed (method, headers, body) and reads who
/// signed it. The `Host` header, when the proof has one, is sent as given (ureq uses a `Host`
/// set on the request instead of the URL's, and check() made it the URL's host); without one
/// ureq writes the URL's authority, which is what the signer signed.
pub fn replay(checked: &Checked, timeout: Duration) -> Result<CallerIdentity, StsError> {
    let mut request = AGENT.post(&checked.url);
    for (name, value) in &checked.headers {
        if !NOT_FORWARDED.iter().any(|n| name.eq_ignore_ascii_case(n)) {
            request = request.header(name.as_str(), value.as_str());
        }
    }
    let response = request
        .config()
        .timeout_global(Some(timeout))
        .build()
        .send(checked.body.as_slice())
        .map_err(transport)?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .with_config()
        .limit(MAX_ANSWER)
        .read_to_vec()
        .map_err(transport)?;
    let text = String::from_utf8_lossy(&body);
    match status {
        200 => parse_caller_identity(&text),
        300..=399 => Err(StsError::Redirected { status }),
        400 | 403 => Err(refused(&text)),
        _ => Err(StsError::Unavailable {
            status,
            reason: format!("status {status}"),
        }),
    }
}

/// ureq's error as ours: a timeout, an answer too large, or STS unreachable.
fn transport(error: ureq::Error) -> StsError {
    match error {
        ureq::Error::Timeout(_) => StsError::Timeout,
        ureq::Error::BodyExceedsLimit(_) => StsError::TooLarge,
        other => StsError::Unavailable {
            status: 0,
            reason: other.to_string(),
        },
    }
}

/// STS's `<ErrorResponse><Error><Code>..</Code><Message>..</Message>`.
fn refused(xml: &str) -> StsError {
    match parse_sts_error(xml) {
        DocumentError::Sts { code, message } => StsError::Refused { code, message },
        _ => StsError::Refused {
            code: "?".to_string(),
            message: String::new(),
        },
    }
}

/// The identity in a `GetCallerIdentity` answer:
/// `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>..</Arn><UserId>..</UserId>
/// <Account>..</Account>`.
pub fn parse_caller_identity(xml: &str) -> Result<CallerIdentity, StsError> {
    if !xml.contains("<GetCallerIdentityResult>") {
        return Err(StsError::Malformed {
            field: "GetCallerIdentityResult",
        });
    }
    let field = |field: &'static str| {
        xml_text(xml, field)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or(StsError::Malformed { field })
    };
    Ok(CallerIdentity {
        arn: field("Arn")?,
        user_id: field("UserId")?,
        account: field("Account")?,
    })
}

/// The role of an assumed-role session: `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION`
/// -> `arn:PARTITION:iam::ACCOUNT:role/ROLE`, as Vault derives it. The role's path is not in an
/// assumed-role ARN, so it is lost: a role `/team/Role` gives `role/Role` (bindings match
/// without the path). `None` for any other ARN (a user, the root), which the caller uses as is.
pub fn role_arn(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("sts"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let (role, session) = resource.strip_prefix("assumed-role/")?.split_once('/')?;
    if partition.is_empty() || account.is_empty() || role.is_empty() || session.is_empty() {
        return None;
    }
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    /// AWS's documented answer (STS API reference, GetCallerIdentity, example 2).
    const ANSWER: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
  <Arn>arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name</Arn>
    <UserId>ARO123EXAMPLE123:my-role-session-name</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
"#;

    const REFUSAL: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error>
    <Type>Sender</Type>
    <Code>SignatureDoesNotMatch</Code>
    <Message>The request signature we calculated does not match the signature you provided.</Message>
  </Error>
  <RequestId>1</RequestId>
</ErrorResponse>
"#;

    fn identity() -> CallerIdentity {
        CallerIdentity {
            arn: "arn:aws:sts::123456789012:assumed-role/my-role-name/my-role-session-name".into(),
            user_id: "ARO123EXAMPLE123:my-role-session-name".into(),
            account: "123456789012".into(),
        }
    }

    #[test]
    fn caller_identity_answers() {
        assert_eq!(parse_caller_identity(ANSWER), Ok(identity()));
        // moto's layout: the same elements on one line.
        let moto = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/moto</Arn><UserId>AKIAIOSFODNN7EXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></GetCallerIdentityResponse>";
        assert_eq!(
            parse_caller_identity(moto),
            Ok(CallerIdentity {
                arn: "arn:aws:iam::123456789012:user/moto".into(),
                user_id: "AKIAIOSFODNN7EXAMPLE".into(),
                account: "123456789012".into(),
            })
        );
        assert_eq!(
            parse_caller_identity("<html>hello</html>"),
            Err(StsError::Malformed {
                field: "GetCallerIdentityResult"
            })
        );
        for field in ["Arn", "UserId", "Account"] {
            let without = ANSWER.replace(&format!("<{field}>"), "<Other>");
            assert_eq!(
                parse_caller_identity(&without),
                Err(StsError::Malformed { field })
            );
            let empty = ANSWER.replace(&format!("<{field}>"), &format!("<{field}> <"));
            assert_eq!(
                parse_caller_identity(&empty),
                Err(StsError::Malformed { field })
            );
        }
    }

    #[test]
    fn role_arns() {
        let cases = [
            (
                "arn:aws:sts::123456789012:assumed-role/my-role/session",
                Some("arn:aws:iam::123456789012:role/my-role"),
            ),
            (
                "arn:aws-cn:sts::123456789012:assumed-role/a=b+c/i-0abc/extra",
                Some("arn:aws-cn:iam::123456789012:role/a=b+c"),
            ),
            (
                "arn:aws-us-gov:sts::123456789012:assumed-role/R/s@example.com",
                Some("arn:aws-us-gov:iam::123456789012:role/R"),
            ),
            ("arn:aws:iam::123456789012:user/alice", None),
            ("arn:aws:iam::123456789012:root", None),
            ("arn:aws:sts::123456789012:federated-user/bob", None),
            ("arn:aws:sts::123456789012:assumed-role/only-role", None),
            ("arn:aws:sts::123456789012:assumed-role//session", None),
            ("arn:aws:sts:us-east-1:123456789012:assumed-role/R/s", None),
            ("arn:aws:sts:::assumed-role/R/s", None),
            ("not an arn", None),
            ("", None),
        ];
        for (arn, role) in cases {
            assert_eq!(role_arn(arn).as_deref(), role, "{arn}");
        }
    }

    /// A server on 127.0.0.1 answering one connection with `answer` (or, with `None`, holding
    /// it open silently); it sends back the request it read.
    fn serve(answer: Option<Vec<u8>>) -> (String, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let request = read_request(&mut stream);
            let _ = tx.send(request);
            match answer {
                Some(answer) => {
                    let _ = stream.write_all(&answer);
                }
                None => thread::sleep(Duration::from_secs(3)),
            }
        });
        (format!("http://127.0.0.1:{port}/"), rx)
    }

    /// The head and a Content-Length body.
    fn read_request(stream: &mut TcpStream) -> String {
        let mut bytes = Vec::new();
        let mut buf = [0; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            bytes.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&bytes).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                if bytes.len() >= end + 4 + length {
                    return text;
                }
            }
        }
        String::from_utf8_lossy(&bytes).to_string()
    }

    fn http(status: &str, body: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }

    fn checked(url: &str, host: &str) -> Checked {
        Checked {
            url: url.into(),
            headers: vec![
                ("Host".into(), host.into()),
                (
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded; charset=utf-8".into(),
                ),
                ("X-Amz-Date".into(), "20300101T000000Z".into()),
                ("Content-Length".into(), "999".into()),
                ("Connection".into(), "upgrade".into()),
                (
                    "Authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=A/x".into(),
                ),
            ],
            body: b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
            partition: "aws".into(),
            region: "us-east-1".into(),
            access_key_id: "A".into(),
            signature: "00".into(),
            signed_at: 0,
            valid_until: 900,
        }
    }

    const SECOND: Duration = Duration::from_secs(2);

    #[test]
    fn replay_sends_the_proof_and_reads_the_identity() {
        let (url, seen) = serve(Some(http("200 OK", ANSWER)));
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        assert_eq!(replay(&checked(&url, &host), SECOND), Ok(identity()));
        let request = seen.recv().unwrap();
        let lower = request.to_ascii_lowercase();
        assert!(request.starts_with("POST / HTTP/1.1\r\n"), "{request}");
        assert_eq!(lower.matches("\r\nhost: ").count(), 1, "{request}");
        assert!(
            lower.contains(&format!("\r\nhost: {host}\r\n")),
            "{request}"
        );
        assert!(lower.contains("\r\ncontent-length: 43\r\n"), "{request}");
        assert!(
            !lower.contains("999") && !lower.contains("connection: upgrade"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nx-amz-date: 20300101t000000z\r\n"),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\nAction=GetCallerIdentity&Version=2011-06-15"));
    }

    #[test]
    fn the_proofs_host_header_is_sent_as_given() {
        let (url, seen) = serve(Some(http("200 OK", ANSWER)));
        replay(&checked(&url, "sts.amazonaws.com"), SECOND).unwrap();
        let request = seen.recv().unwrap().to_ascii_lowercase();
        assert_eq!(request.matches("\r\nhost: ").count(), 1, "{request}");
        assert!(
            request.contains("\r\nhost: sts.amazonaws.com\r\n"),
            "{request}"
        );
    }

    #[test]
    fn sts_refusals() {
        for status in ["403 Forbidden", "400 Bad Request"] {
            let (url, _seen) = serve(Some(http(status, REFUSAL)));
            let e = replay(&checked(&url, "h"), SECOND).unwrap_err();
            assert_eq!(
                e,
                StsError::Refused {
                    code: "SignatureDoesNotMatch".into(),
                    message: "The request signature we calculated does not match the signature you provided.".into(),
                }
            );
            assert_eq!(e.code(), "sts_refused");
        }
        let (url, _seen) = serve(Some(http("403 Forbidden", "")));
        assert_eq!(
            replay(&checked(&url, "h"), SECOND),
            Err(StsError::Refused {
                code: "?".into(),
                message: String::new()
            })
        );
    }

    #[test]
    fn a_redirect_is_not_followed() {
        let answer =
            "HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/\r\ncontent-length: 0\r\n\r\n";
        let (url, _seen) = serve(Some(answer.as_bytes().to_vec()));
        let e = replay(&checked(&url, "h"), SECOND).unwrap_err();
        assert_eq!(
            (e.code(), e),
            ("sts_redirected", StsError::Redirected { status: 302 })
        );
    }

    #[test]
    fn server_errors_are_unavailable() {
        let (url, _seen) = serve(Some(http("503 Service Unavailable", "busy")));
        let e = replay(&checked(&url, "h"), SECOND).unwrap_err();
        assert_eq!(
            (e.code(), e),
            (
                "sts_unavailable",
                StsError::Unavailable {
                    status: 503,
                    reason: "status 503".into()
                }
            )
        );
        // Nobody listening.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = replay(&checked(&format!("http://127.0.0.1:{port}/"), "h"), SECOND).unwrap_err();
        assert_eq!(e.code(), "sts_unavailable", "{e:?}");
    }

    #[test]
    fn an_oversized_answer_is_refused() {
        let big = format!(
            "<GetCallerIdentityResult>{}",
            "a".repeat(MAX_ANSWER as usize)
        );
        let (url, _seen) = serve(Some(http("200 OK", &big)));
        let e = replay(&checked(&url, "h"), SECOND).unwrap_err();
        assert_eq!((e.code(), e), ("sts_answer_too_large", StsError::TooLarge));
    }

    #[test]
    fn a_silent_server_times_out() {
        let (url, _seen) = serve(None);
        let started = std::time::Instant::now();
        let e = replay(&checked(&url, "h"), Duration::from_millis(300)).unwrap_err();
        assert_eq!((e.code(), e), ("sts_timeout", StsError::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_200_without_identity_is_malformed() {
        let (url, _seen) = serve(Some(http(
            "200 OK",
            "<GetCallerIdentityResult></GetCallerIdentityResult>",
        )));
        assert_eq!(
            replay(&checked(&url, "h"), SECOND),
            Err(StsError::Malformed { field: "Arn" })
        );
    }
}

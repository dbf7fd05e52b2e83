//! The IMDSv2 handshake as a state machine: `PUT /latest/api/token` with a TTL, then the
//! instance role's name and its credentials (or the instance's region), each with the token.
//! The host sends each [`HttpRequest`] to its endpoint and feeds the answer back.
//!
//! One policy for every host, the AWS SDK for Rust's: the IMDSv2 token is required. A token
//! request answered 403, 404 or 405, or an empty token, is refused unless the IMDSv1 fallback
//! was asked for (as botocore falls back on exactly those answers); then the calls go without a
//! token. A token request with no answer means no metadata service ([`ImdsError::Unreachable`]).

use std::fmt;

use zeroize::Zeroizing;

use crate::document::{DocumentError, parse_endpoint_document};
use crate::{HttpAnswer, HttpRequest, ParsedCredentials};

/// The token's lifetime asked for, in seconds (6 hours, as the AWS SDKs ask).
pub const TOKEN_TTL_SECONDS: &str = "21600";
/// The header that asks for a token's lifetime.
pub const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// The header that carries the token.
pub const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// Where the token is asked for.
pub const TOKEN_PATH: &str = "/latest/api/token";
/// The instance role's name, and under it its credentials.
pub const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";
/// The instance's region.
pub const REGION_PATH: &str = "/latest/meta-data/placement/region";

/// What the handshake is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The instance role's credentials.
    Credentials,
    /// The instance's region.
    Region,
}

/// What the handshake ended with.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The role's credentials.
    Credentials(ParsedCredentials),
    /// The region.
    Region(String),
}

/// Why the handshake gave nothing (never holds the token).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImdsError {
    /// The token request got no answer: no metadata service here (not on EC2).
    Unreachable,
    /// The token was refused (`status`, or `None` for an empty token) and IMDSv1 is off.
    TokenRefused(Option<u16>),
    /// The instance has no IAM role (404 or an empty list).
    NoRole,
    /// A step answered another status, or none (`step` names it).
    Status {
        /// The step (`token`, `role`, `credentials of role r`, `region`).
        step: String,
        /// The status, `None` when no answer came.
        status: Option<u16>,
    },
    /// The role's credentials document is wrong.
    Document(DocumentError),
}

impl fmt::Display for ImdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImdsError::Unreachable => f.write_str(
                "no instance metadata service answered (connection failed or timed out)",
            ),
            ImdsError::TokenRefused(Some(status)) => write!(
                f,
                "the IMDSv2 token request (PUT {TOKEN_PATH}) answered {status} and IMDSv1 fallback is off"
            ),
            ImdsError::TokenRefused(None) => write!(
                f,
                "the IMDSv2 token request (PUT {TOKEN_PATH}) answered an empty token and IMDSv1 fallback is off"
            ),
            ImdsError::NoRole => f.write_str("the instance has no IAM role"),
            ImdsError::Status {
                step,
                status: Some(status),
            } => {
                write!(f, "IMDS {step} answered {status}")
            }
            ImdsError::Status { step, status: None } => {
                write!(f, "IMDS {step}: no answer (connection failed or timed out)")
            }
            ImdsError::Document(why) => write!(f, "IMDS role credentials: {why}"),
        }
    }
}

impl std::error::Error for ImdsError {}

/// What to do next.
#[derive(Debug)]
pub enum Step {
    /// Send this request and give its answer to [`Handshake::answer`].
    Send(HttpRequest),
    /// The handshake is over.
    Done(Result<Outcome, ImdsError>),
}

/// An IMDSv2 handshake in progress.
pub struct Handshake {
    goal: Goal,
    allow_v1_fallback: bool,
    stage: Stage,
}

enum Stage {
    Token,
    Role(Option<Zeroizing<String>>),
    Credentials(String),
    Region,
    Over,
}

impl Handshake {
    /// Starts: the token request to send first.
    pub fn start(goal: Goal, allow_v1_fallback: bool) -> (Handshake, HttpRequest) {
        let request = HttpRequest {
            method: "PUT",
            path: TOKEN_PATH.into(),
            headers: vec![(TOKEN_TTL_HEADER, Zeroizing::new(TOKEN_TTL_SECONDS.into()))],
        };
        let handshake = Handshake {
            goal,
            allow_v1_fallback,
            stage: Stage::Token,
        };
        (handshake, request)
    }

    fn get(path: String, token: Option<&Zeroizing<String>>) -> HttpRequest {
        HttpRequest {
            method: "GET",
            path,
            headers: token
                .map(|t| (TOKEN_HEADER, t.clone()))
                .into_iter()
                .collect(),
        }
    }

    /// The answer to the last request.
    pub fn answer(&mut self, answer: HttpAnswer<'_>) -> Step {
        let text = || String::from_utf8_lossy(answer.body);
        let status_error = |step: &str| {
            Step::Done(Err(ImdsError::Status {
                step: step.into(),
                status: answer.status,
            }))
        };
        match std::mem::replace(&mut self.stage, Stage::Over) {
            Stage::Token => {
                let token = match answer.status {
                    None => return Step::Done(Err(ImdsError::Unreachable)),
                    Some(200) => {
                        Some(Zeroizing::new(text().trim().to_string())).filter(|t| !t.is_empty())
                    }
                    Some(403..=405) => None,
                    Some(_) => return status_error("token request (PUT /latest/api/token)"),
                };
                if token.is_none() && !self.allow_v1_fallback {
                    let status = answer.status.filter(|s| *s != 200);
                    return Step::Done(Err(ImdsError::TokenRefused(status)));
                }
                let next = match self.goal {
                    Goal::Credentials => {
                        let next = Self::get(CREDENTIALS_PATH.into(), token.as_ref());
                        self.stage = Stage::Role(token);
                        next
                    }
                    Goal::Region => {
                        self.stage = Stage::Region;
                        Self::get(REGION_PATH.into(), token.as_ref())
                    }
                };
                Step::Send(next)
            }
            Stage::Role(token) => match answer.status {
                Some(200) => {
                    let text = text();
                    let Some(role) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
                        return Step::Done(Err(ImdsError::NoRole));
                    };
                    let next = Self::get(format!("{CREDENTIALS_PATH}{role}"), token.as_ref());
                    self.stage = Stage::Credentials(role.to_string());
                    Step::Send(next)
                }
                Some(404) => Step::Done(Err(ImdsError::NoRole)),
                _ => status_error("instance role"),
            },
            Stage::Credentials(role) => match answer.status {
                Some(200) => Step::Done(
                    parse_endpoint_document(answer.body)
                        .map(Outcome::Credentials)
                        .map_err(ImdsError::Document),
                ),
                _ => status_error(&format!("credentials of role {role}")),
            },
            Stage::Region => match answer.status {
                Some(200) => Step::Done(Ok(Outcome::Region(text().trim().to_string()))),
                _ => status_error("region"),
            },
            Stage::Over => status_error("handshake (already over)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &[u8] = br#"{"Code":"Success","AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"SECRET","Token":"TOKEN","Expiration":"2030-01-01T00:00:00Z"}"#;

    fn ok(body: &[u8]) -> HttpAnswer<'_> {
        HttpAnswer {
            status: Some(200),
            body,
        }
    }

    fn status(status: u16) -> HttpAnswer<'static> {
        HttpAnswer {
            status: Some(status),
            body: b"",
        }
    }

    fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn sent(step: Step) -> HttpRequest {
        match step {
            Step::Send(request) => request,
            Step::Done(done) => panic!("over: {done:?}"),
        }
    }

    fn done(step: Step) -> Result<Outcome, ImdsError> {
        match step {
            Step::Done(done) => done,
            Step::Send(request) => panic!("sends {request:?}"),
        }
    }

    #[test]
    fn token_then_role_then_credentials() {
        let (mut imds, first) = Handshake::start(Goal::Credentials, false);
        assert_eq!((first.method, first.path.as_str()), ("PUT", TOKEN_PATH));
        assert_eq!(header(&first, TOKEN_TTL_HEADER), Some("21600"));
        let role = sent(imds.answer(ok(b"TOKEN-1\n")));
        assert_eq!((role.method, role.path.as_str()), ("GET", CREDENTIALS_PATH));
        assert_eq!(header(&role, TOKEN_HEADER), Some("TOKEN-1"));
        let creds = sent(imds.answer(ok(b"my-role\n")));
        assert_eq!(creds.path, format!("{CREDENTIALS_PATH}my-role"));
        assert_eq!(header(&creds, TOKEN_HEADER), Some("TOKEN-1"));
        let Ok(Outcome::Credentials(c)) = done(imds.answer(ok(DOC))) else {
            panic!()
        };
        assert_eq!(
            (c.access_key_id.as_str(), c.expiration),
            ("ASIAEXAMPLE", Some(1_893_456_000))
        );
    }

    #[test]
    fn region() {
        let (mut imds, _) = Handshake::start(Goal::Region, false);
        let region = sent(imds.answer(ok(b"T")));
        assert_eq!(region.path, REGION_PATH);
        assert_eq!(
            done(imds.answer(ok(b"eu-west-3\n"))),
            Ok(Outcome::Region("eu-west-3".into()))
        );
    }

    /// One answer for every host: an empty token is no token, refused without the fallback.
    #[test]
    fn an_empty_or_refused_token_is_refused_without_fallback() {
        for (answer, expected) in [
            (ok(b" \n"), ImdsError::TokenRefused(None)),
            (status(403), ImdsError::TokenRefused(Some(403))),
            (status(404), ImdsError::TokenRefused(Some(404))),
            (status(405), ImdsError::TokenRefused(Some(405))),
        ] {
            let (mut imds, _) = Handshake::start(Goal::Credentials, false);
            assert_eq!(done(imds.answer(answer)), Err(expected));
        }
        let (mut imds, _) = Handshake::start(Goal::Credentials, false);
        let Err(ImdsError::Status { status, .. }) = done(imds.answer(status(500))) else {
            panic!()
        };
        assert_eq!(status, Some(500));
        let (mut imds, _) = Handshake::start(Goal::Credentials, true);
        let no_answer = HttpAnswer {
            status: None,
            body: b"",
        };
        assert_eq!(done(imds.answer(no_answer)), Err(ImdsError::Unreachable));
    }

    #[test]
    fn v1_fallback_sends_no_token() {
        for answer in [ok(b""), status(404), status(403), status(405)] {
            let (mut imds, _) = Handshake::start(Goal::Credentials, true);
            let role = sent(imds.answer(answer));
            assert!(role.headers.is_empty(), "{role:?}");
        }
    }

    #[test]
    fn failures_say_which_step() {
        let (mut imds, _) = Handshake::start(Goal::Credentials, false);
        let _ = sent(imds.answer(ok(b"T")));
        assert_eq!(done(imds.answer(status(404))), Err(ImdsError::NoRole));
        let (mut imds, _) = Handshake::start(Goal::Credentials, false);
        let _ = sent(imds.answer(ok(b"T")));
        assert_eq!(done(imds.answer(ok(b"\n"))), Err(ImdsError::NoRole));
        let (mut imds, _) = Handshake::start(Goal::Credentials, false);
        let _ = sent(imds.answer(ok(b"T")));
        let _ = sent(imds.answer(ok(b"r")));
        let why = done(imds.answer(status(500))).unwrap_err().to_string();
        assert!(
            why.contains("credentials of role r") && why.contains("500"),
            "{why}"
        );
        let (mut imds, _) = Handshake::start(Goal::Credentials, false);
        let _ = sent(imds.answer(ok(b"T")));
        let _ = sent(imds.answer(ok(b"r")));
        let why = done(imds.answer(ok(b"{not json"))).unwrap_err().to_string();
        assert!(why.contains("not JSON"), "{why}");
    }
}

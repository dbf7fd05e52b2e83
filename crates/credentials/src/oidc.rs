//! OIDC tokens for web identity federation (`AssumeRoleWithWebIdentity`), without I/O: the
//! OAuth2 client-credentials request (Entra ID's shape by default), the token in a JSON answer
//! and when it expires, and whether a cached token is still good to send.

use zeroize::Zeroizing;

/// Entra ID's authority host, as the Azure SDKs default `AZURE_AUTHORITY_HOST`.
pub const ENTRA_AUTHORITY_HOST: &str = "https://login.microsoftonline.com";

/// `client_assertion_type` of a signed JWT assertion (RFC 7523), as Entra ID takes federated
/// credentials (`AZURE_FEDERATED_TOKEN_FILE`).
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A cached token is sent again only while this long is left of it: STS refuses an expired
/// token, and the exchange itself takes time.
pub const REFRESH_MARGIN_SECS: u64 = 300;

/// Whether a token may be fetched from `host` over plain HTTP: loopback (a local broker, a
/// test) or the link-local metadata address of Azure and other clouds (169.254.169.254, whose
/// managed identity endpoint is plain HTTP). Anything else would carry the client's secret or
/// bearer header in clear.
pub fn plain_http_allowed(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip == std::net::IpAddr::from([169, 254, 169, 254]))
}

/// A URL for errors and logs: without its query, which may carry a credential.
pub fn shown_url(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// Entra ID's token endpoint of a tenant: `{authority}/{tenant}/oauth2/v2.0/token`.
pub fn entra_token_url(authority_host: &str, tenant_id: &str) -> String {
    format!(
        "{}/{tenant_id}/oauth2/v2.0/token",
        authority_host.trim_end_matches('/')
    )
}

/// How the client proves itself: a secret, or a signed assertion (a federated token).
#[derive(Clone, Copy)]
pub enum ClientAuth<'a> {
    Secret(&'a str),
    Assertion(&'a str),
}

/// The form of a client-credentials token request (RFC 6749 4.4, the client authenticated in
/// the body: `client_secret_post`, or RFC 7523's assertion), as Entra ID takes it.
pub fn client_credentials_form<'a>(
    client_id: &'a str,
    auth: ClientAuth<'a>,
    scope: Option<&'a str>,
) -> Vec<(&'static str, &'a str)> {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", client_id),
    ];
    match auth {
        ClientAuth::Secret(secret) => form.push(("client_secret", secret)),
        ClientAuth::Assertion(assertion) => {
            form.push(("client_assertion_type", JWT_BEARER_ASSERTION));
            form.push(("client_assertion", assertion));
        }
    }
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    form
}

/// A token and when it expires (unix seconds; `None`: unknown).
pub struct Token {
    pub value: Zeroizing<String>,
    pub expires_at: Option<u64>,
}

impl Token {
    /// A token given as is (a file, a command's output): its expiry read from its JWT claims.
    pub fn bare(text: &str) -> Result<Token, TokenError> {
        let value = text.trim();
        if value.is_empty() {
            return Err(TokenError("the token is empty".into()));
        }
        Ok(Token {
            expires_at: jwt_expiry(value),
            value: Zeroizing::new(value.to_string()),
        })
    }

    /// Whether it may be sent again at `now` rather than fetched anew: known to last more than
    /// [`REFRESH_MARGIN_SECS`]. A token of unknown expiry is fetched every time.
    pub fn usable_at(&self, now: u64) -> bool {
        self.expires_at
            .is_some_and(|at| now.saturating_add(REFRESH_MARGIN_SECS) < at)
    }
}

/// Why no token was found in an answer. Never holds the token or a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError(pub String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The token in a JSON answer's `field` (`access_token` of OAuth2 and Azure's managed identity
/// endpoint, `value` of GitHub Actions' ID token endpoint), at `now` (unix seconds): expiring
/// after `expires_in` seconds, at `expires_on` (unix seconds, a number or its text), or at the
/// JWT's `exp`.
pub fn parse_token_answer(json: &str, field: &str, now: u64) -> Result<Token, TokenError> {
    let answer: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| TokenError(format!("the answer is not JSON: {e}")))?;
    let value = answer
        .get(field)
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| TokenError(format!("the answer has no {field:?} text")))?;
    let number = |name: &str| {
        answer.get(name).and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    };
    let expires_at = number("expires_in")
        .map(|secs| now.saturating_add(secs))
        .or_else(|| number("expires_on"))
        .or_else(|| jwt_expiry(value));
    Ok(Token {
        value: Zeroizing::new(value.to_string()),
        expires_at,
    })
}

/// Why a token endpoint refused, from its OAuth2 error answer (`error`, `error_description`):
/// the body is not shown otherwise, as it may echo what was sent.
pub fn oauth2_error(json: &str) -> String {
    let answer: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let text = |name: &str| answer.get(name).and_then(|v| v.as_str());
    match (text("error"), text("error_description")) {
        (Some(error), Some(description)) => format!("{error}: {description}"),
        (Some(error), None) => error.to_string(),
        _ => "no OAuth2 error in the answer".to_string(),
    }
}

/// The `exp` claim of a JWT (`header.payload.signature`, base64url), unverified: it only says
/// when to fetch again; STS verifies the token.
pub fn jwt_expiry(token: &str) -> Option<u64> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let claims: serde_json::Value = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
    claims.get("exp")?.as_u64()
}

/// Unpadded (or padded) base64url.
fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut bits, mut n) = (0u32, 0u32);
    for b in text.trim_end_matches('=').bytes() {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = bits << 6 | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `{"alg":"none"}.{"sub":"agent","exp":1900000000}.` as a JWT.
    const JWT: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZ2VudCIsImV4cCI6MTkwMDAwMDAwMH0.sig";

    #[test]
    fn the_client_credentials_form_is_entras() {
        assert_eq!(
            client_credentials_form("app", ClientAuth::Secret("s"), Some("api://app/.default")),
            [
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_secret", "s"),
                ("scope", "api://app/.default")
            ]
        );
        assert_eq!(
            client_credentials_form("app", ClientAuth::Assertion("a.b.c"), None),
            [
                ("grant_type", "client_credentials"),
                ("client_id", "app"),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", "a.b.c"),
            ]
        );
        assert_eq!(
            entra_token_url("https://login.microsoftonline.com/", "tenant-1"),
            "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
        );
    }

    #[test]
    fn plain_http_only_to_loopback_and_the_metadata_address() {
        for host in ["127.0.0.1", "localhost", "[::1]", "169.254.169.254"] {
            assert!(plain_http_allowed(host), "{host}");
        }
        for host in [
            "169.254.170.2",
            "10.0.0.1",
            "login.example.com",
            "[fe80::1]",
        ] {
            assert!(!plain_http_allowed(host), "{host}");
        }
        assert_eq!(shown_url("http://h/t?sig=secret#x"), "http://h/t");
    }

    #[test]
    fn expiry_from_expires_in_expires_on_or_the_jwt() {
        let at = |json: &str| {
            parse_token_answer(json, "access_token", 1000)
                .unwrap()
                .expires_at
        };
        assert_eq!(at(r#"{"access_token":"t","expires_in":3599}"#), Some(4599));
        assert_eq!(at(r#"{"access_token":"t","expires_in":"60"}"#), Some(1060));
        assert_eq!(
            at(r#"{"access_token":"t","expires_on":"1700000000"}"#),
            Some(1_700_000_000)
        );
        assert_eq!(
            at(&format!(r#"{{"access_token":"{JWT}"}}"#)),
            Some(1_900_000_000)
        );
        assert_eq!(at(r#"{"access_token":"opaque"}"#), None);
        let github = parse_token_answer(&format!(r#"{{"value":"{JWT}"}}"#), "value", 0).unwrap();
        assert_eq!(github.value.as_str(), JWT);
    }

    #[test]
    fn answers_without_the_token_say_what_is_missing_and_never_the_body() {
        let missing = parse_token_answer(r#"{"token":"secret-ish"}"#, "access_token", 0);
        assert_eq!(
            missing.err().unwrap().0,
            "the answer has no \"access_token\" text"
        );
        assert!(parse_token_answer("<html>", "access_token", 0).is_err());
        assert_eq!(
            oauth2_error(r#"{"error":"invalid_client","error_description":"bad secret"}"#),
            "invalid_client: bad secret"
        );
        assert_eq!(oauth2_error("oops"), "no OAuth2 error in the answer");
    }

    #[test]
    fn tokens_are_reused_until_the_margin_and_unknown_expiries_never() {
        let token = Token::bare(&format!("  {JWT}\n")).unwrap();
        assert_eq!(token.value.as_str(), JWT);
        assert!(token.usable_at(1_900_000_000 - REFRESH_MARGIN_SECS - 1));
        assert!(!token.usable_at(1_900_000_000 - REFRESH_MARGIN_SECS));
        assert!(!Token::bare("opaque").unwrap().usable_at(0));
        assert!(Token::bare(" \n").is_err());
    }
}

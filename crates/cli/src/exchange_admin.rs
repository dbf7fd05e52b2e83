//! `sigv4 exchange-admin`: the exchange server's admin routes from the command line (enrollment
//! tokens, agents, bindings), authenticated with the admin token.

use std::time::Duration;

/// One admin call: the method, the path under the server, and the JSON body to send.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    /// `GET`, `POST` or `DELETE`.
    pub method: &'static str,
    /// `/v1/admin/...`.
    pub path: String,
    /// The body, for a `POST`.
    pub body: Option<String>,
}

/// What an admin asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Create an enrollment token.
    CreateToken {
        /// The admin's name for it.
        name: String,
        /// The organization its agents join.
        organization: String,
        /// How long it lasts (none: until revoked).
        expires_in: Option<Duration>,
        /// How many enrollments it allows (none: unlimited).
        max_uses: Option<u32>,
    },
    /// List the enrollment tokens (never their secrets).
    ListTokens,
    /// Revoke an enrollment token by its id.
    RevokeToken(String),
    /// List the agents.
    ListAgents,
    /// Revoke an agent by its id.
    RevokeAgent(String),
    /// List the configured bindings.
    ListBindings,
}

impl Action {
    /// The HTTP call that does it.
    pub fn call(&self) -> Call {
        let get = |path: &str| Call {
            method: "GET",
            path: path.to_string(),
            body: None,
        };
        let revoke = |what: &str, id: &str| Call {
            method: "DELETE",
            path: format!("/v1/admin/{what}/{}", encode_segment(id)),
            body: None,
        };
        match self {
            Action::CreateToken {
                name,
                organization,
                expires_in,
                max_uses,
            } => {
                let mut body = serde_json::json!({"name": name, "organization": organization});
                if let Some(expires_in) = expires_in {
                    body["expires_in"] = expires_in.as_secs().into();
                }
                if let Some(max_uses) = max_uses {
                    body["max_uses"] = (*max_uses).into();
                }
                Call {
                    method: "POST",
                    path: "/v1/admin/enrollment-tokens".into(),
                    body: Some(body.to_string()),
                }
            }
            Action::ListTokens => get("/v1/admin/enrollment-tokens"),
            Action::RevokeToken(id) => revoke("enrollment-tokens", id),
            Action::ListAgents => get("/v1/admin/agents"),
            Action::RevokeAgent(id) => revoke("agents", id),
            Action::ListBindings => get("/v1/admin/bindings"),
        }
    }
}

/// A path segment percent-encoded (ids are ASCII, but an id is never taken as a path).
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b':' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sends `action` to the server at `base` (`http://host:port`) with the admin token; the
/// server's JSON answer, pretty, or its refusal as an error.
pub fn run(base: &str, admin_token: &str, action: &Action) -> Result<String, String> {
    let call = action.call();
    let url = format!("{}{}", base.trim_end_matches('/'), call.path);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let authorization = format!("Bearer {admin_token}");
    let answer = match (call.method, &call.body) {
        ("POST", Some(body)) => agent
            .post(&url)
            .header("authorization", &authorization)
            .header("content-type", "application/json")
            .send(body.as_str()),
        ("DELETE", _) => agent
            .delete(&url)
            .header("authorization", &authorization)
            .call(),
        _ => agent
            .get(&url)
            .header("authorization", &authorization)
            .call(),
    };
    let mut answer = answer.map_err(|e| format!("{} {url}: {e}", call.method))?;
    let status = answer.status();
    let text = answer
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_string()
        .map_err(|e| format!("{} {url}: {e}", call.method))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    if !status.is_success() {
        let reason = json["message"].as_str().unwrap_or("");
        let code = json["error"].as_str().unwrap_or("");
        return Err(format!("{} {url}: {status}: {code}: {reason}", call.method));
    }
    Ok(serde_json::to_string_pretty(&json).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_is_its_route() {
        let create = Action::CreateToken {
            name: "fleet".into(),
            organization: "acme".into(),
            expires_in: Some(Duration::from_secs(3600)),
            max_uses: Some(10),
        };
        let call = create.call();
        assert_eq!(
            (call.method, call.path.as_str()),
            ("POST", "/v1/admin/enrollment-tokens")
        );
        let body: serde_json::Value = serde_json::from_str(&call.body.unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"name": "fleet", "organization": "acme", "expires_in": 3600, "max_uses": 10})
        );
        let bare = Action::CreateToken {
            name: "n".into(),
            organization: "o".into(),
            expires_in: None,
            max_uses: None,
        };
        let body: serde_json::Value = serde_json::from_str(&bare.call().body.unwrap()).unwrap();
        assert_eq!(body, serde_json::json!({"name": "n", "organization": "o"}));
        let routes = [
            (Action::ListTokens, "GET", "/v1/admin/enrollment-tokens"),
            (
                Action::RevokeToken("ab12".into()),
                "DELETE",
                "/v1/admin/enrollment-tokens/ab12",
            ),
            (Action::ListAgents, "GET", "/v1/admin/agents"),
            (
                Action::RevokeAgent("host/1 x".into()),
                "DELETE",
                "/v1/admin/agents/host%2F1%20x",
            ),
            (Action::ListBindings, "GET", "/v1/admin/bindings"),
        ];
        for (action, method, path) in routes {
            let call = action.call();
            assert_eq!((call.method, call.path.as_str()), (method, path));
        }
    }
}

//! The agent's `client` resource: signs with the credentials the host supplies, at the host's
//! wall-clock time, and sends through `wasi:http` (see `http.rs`).

use std::cell::RefCell;

use crate::bindings::exports::sigv4::core::client::{
    self, ClientConfig, ClientError, GuestClient, Response, Timeouts,
};
use crate::bindings::exports::sigv4::core::signing::{
    Credentials, Payload, Request, Signed, SignerConfig,
};
use crate::bindings::sigv4::core::host_credentials;
use crate::bindings::wasi::clocks::wall_clock;
use crate::{Component, State, credentials, http, signed};

impl client::Guest for Component {
    type Client = Client;
}

/// The `client` resource: a signer whose credentials are the host's latest.
pub(crate) struct Client {
    state: RefCell<State>,
    timeouts: Timeouts,
}

/// Placeholder credentials for `create`, which checks everything else; every call replaces them
/// with the host's before signing.
fn unchecked() -> Credentials {
    Credentials {
        access_key_id: "-".into(),
        secret_access_key: "-".into(),
        session_token: None,
    }
}

impl GuestClient for Client {
    fn create(config: ClientConfig) -> Result<client::Client, ClientError> {
        let state = State::new(SignerConfig {
            credentials: unchecked(),
            region: config.region,
            service: config.service,
            algorithm: config.algorithm,
            settings: config.settings,
        })
        .map_err(ClientError::Invalid)?;
        Ok(client::Client::new(Client {
            state: RefCell::new(state),
            timeouts: config.timeouts,
        }))
    }

    fn sign(&self, request: Request) -> Result<Signed, ClientError> {
        let out = self.sign_now(&request, sigv4_core::Location::Headers)?;
        Ok(signed(&out))
    }

    fn presign(&self, request: Request, expires_in: u64) -> Result<Signed, ClientError> {
        let out = self.sign_now(&request, sigv4_core::Location::Query { expires_in })?;
        Ok(signed(&out))
    }

    fn send(&self, request: Request, body: Option<Vec<u8>>) -> Result<Response, ClientError> {
        let signed = self.sign_now(&request, sigv4_core::Location::Headers)?;
        let body = match (&body, &request.payload) {
            (Some(body), _) | (None, Payload::Bytes(body)) => body.as_slice(),
            (None, _) => &[],
        };
        http::send(&request, &signed, body, &self.timeouts)
    }
}

impl Client {
    /// Signs with the host's current credentials at the wall clock's current second.
    fn sign_now(
        &self,
        request: &Request,
        location: sigv4_core::Location,
    ) -> Result<sigv4_core::Signed, ClientError> {
        let supplied = host_credentials::get().map_err(ClientError::Credentials)?;
        let mut state = self.state.borrow_mut();
        state.credentials = credentials(&Credentials {
            access_key_id: supplied.access_key_id,
            secret_access_key: supplied.secret_access_key,
            session_token: supplied.session_token,
        })
        .map_err(ClientError::Invalid)?;
        let now = wall_clock::now().seconds;
        state
            .sign(request, now, location)
            .map_err(ClientError::Invalid)
    }
}

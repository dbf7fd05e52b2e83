//! The agent component (`wit/`, world `agent`) in wasmtime: it signs with the credentials this
//! host supplies (`host-credentials`, answered by a [`CredentialsCache`]), at the time of
//! `wasi:clocks/wall-clock`, and sends through `wasi:http` (wasmtime-wasi-http: hyper, rustls).
//!
//! The host always bounds a request in time: timeouts the client's configuration leaves at 0 get
//! [`HostTimeouts`] (wasmtime-wasi-http alone would wait ten minutes).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, InstancePre, Linker, ResourceAny, ResourceTable};
use wasmtime::error::Context;
use wasmtime::{Config, Engine, Result, Store};
use wasmtime_wasi::{HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::bindings::exports::sigv4::core::client::{
    Guest as ClientExports, GuestIndices as ClientIndices,
};
use crate::bindings::sigv4::core::host_credentials;
use crate::credentials::CredentialsCache;
use crate::{Request, Signed};

pub use crate::bindings::exports::sigv4::core::client::{
    ClientConfig, ClientError, Response, Timeouts,
};

/// The agent component, built from `crates/component` (feature `agent`), embedded at compile time.
pub const AGENT_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sigv4_agent.wasm"));

/// The limits the host applies to what a client's [`Timeouts`] leave at 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HostTimeouts {
    /// To open the connection (TCP and TLS).
    pub connect: Duration,
    /// From the request sent to the first byte of the answer.
    pub first_byte: Duration,
    /// Between two reads of the answer's body.
    pub between_bytes: Duration,
}

impl Default for HostTimeouts {
    /// Connect within 3.1 s (the AWS SDKs' default), answer within 30 s.
    fn default() -> Self {
        HostTimeouts {
            connect: Duration::from_millis(3100),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
        }
    }
}

/// What the host gives one client.
pub struct AgentHost {
    /// Answers `host-credentials.get` (cached, refreshed ahead of expiry).
    pub credentials: Arc<CredentialsCache>,
    /// Applied where the client's configuration says 0.
    pub timeouts: HostTimeouts,
    /// What `wasi:clocks/wall-clock` reads, in seconds since the Unix epoch; `None`: the system
    /// clock. (Tests fix it to compare signatures.)
    pub fixed_time: Option<u64>,
}

/// Why a call into the agent gave no result.
#[derive(Debug)]
pub enum AgentError {
    /// The component's typed error: no credentials, a bad input, the network, a timeout.
    Client(ClientError),
    /// The runtime failed (a trap, or the component could not be instantiated).
    Runtime(wasmtime::Error),
}

impl From<ClientError> for AgentError {
    fn from(error: ClientError) -> Self {
        AgentError::Client(error)
    }
}

impl From<wasmtime::Error> for AgentError {
    fn from(error: wasmtime::Error) -> Self {
        AgentError::Runtime(error)
    }
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Client(ClientError::Credentials(why)) => write!(f, "no credentials: {why}"),
            AgentError::Client(ClientError::Invalid(error)) => f.write_str(&error.message),
            AgentError::Client(ClientError::Http(why)) => write!(f, "HTTP: {why}"),
            AgentError::Client(ClientError::Timeout(why)) => write!(f, "timed out: {why}"),
            AgentError::Runtime(error) => write!(f, "the agent component failed: {error:#}"),
        }
    }
}

impl std::error::Error for AgentError {}

/// The compiled, pre-instantiated agent component, with the WASI and `host-credentials` imports
/// linked. Compile once, make a client per configuration.
pub struct AgentComponent {
    engine: Engine,
    pre: InstancePre<AgentState>,
    client: ClientIndices,
}

impl AgentComponent {
    /// Compiles the embedded component.
    pub fn new() -> Result<Self> {
        Self::from_bytes(AGENT_COMPONENT)
    }

    /// The embedded component, compiled once per process on first use.
    pub fn shared() -> Result<&'static AgentComponent> {
        static SHARED: OnceLock<std::result::Result<AgentComponent, String>> = OnceLock::new();
        match SHARED.get_or_init(|| AgentComponent::new().map_err(|e| format!("{e:#}"))) {
            Ok(component) => Ok(component),
            Err(message) => Err(wasmtime::format_err!("{message}")),
        }
    }

    /// Compiles an agent component (binary or WAT).
    pub fn from_bytes(component: &[u8]) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component =
            Component::new(&engine, component).context("compile the agent component")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)?;
        host_credentials::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)?;
        let pre = linker.instantiate_pre(&component)?;
        let client = ClientIndices::new(&pre)?;
        Ok(AgentComponent {
            engine,
            pre,
            client,
        })
    }

    /// A fresh instance with a `client` resource for `config`.
    pub fn client(
        &self,
        config: &ClientConfig,
        host: AgentHost,
    ) -> Result<AgentClient, AgentError> {
        let mut wasi = WasiCtx::builder();
        if let Some(seconds) = host.fixed_time {
            wasi.wall_clock(FixedClock(Duration::from_secs(seconds)));
        }
        let state = AgentState {
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: Hooks(host.timeouts),
            credentials: host.credentials,
        };
        let mut store = Store::new(&self.engine, state);
        let instance = self.pre.instantiate(&mut store)?;
        let bindings = self.client.load(&mut store, &instance)?;
        let client = bindings.client().call_create(&mut store, config)??;
        Ok(AgentClient {
            store,
            bindings,
            client,
        })
    }
}

/// One instance of the agent and its `client` resource.
pub struct AgentClient {
    store: Store<AgentState>,
    bindings: ClientExports,
    client: ResourceAny,
}

impl AgentClient {
    /// Header signing now, with the host's credentials: the headers to set.
    pub fn sign(&mut self, request: &Request) -> Result<Signed, AgentError> {
        Ok(self
            .bindings
            .client()
            .call_sign(&mut self.store, self.client, request)??)
    }

    /// A presigned URL, valid for `expires_in` seconds from now.
    pub fn presign(&mut self, request: &Request, expires_in: u64) -> Result<Signed, AgentError> {
        Ok(self.bindings.client().call_presign(
            &mut self.store,
            self.client,
            request,
            expires_in,
        )??)
    }

    /// Signs now and sends; `body` when given, else the payload's bytes.
    pub fn send(&mut self, request: &Request, body: Option<&[u8]>) -> Result<Response, AgentError> {
        Ok(self
            .bindings
            .client()
            .call_send(&mut self.store, self.client, request, body)??)
    }
}

/// The store's data: WASI and wasi-http state, and the credentials this host supplies.
struct AgentState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Hooks,
    credentials: Arc<CredentialsCache>,
}

impl WasiView for AgentState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for AgentState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl host_credentials::Host for AgentState {
    fn get(&mut self) -> std::result::Result<host_credentials::Credentials, String> {
        let credentials = self.credentials.get().map_err(|e| e.to_string())?;
        Ok(host_credentials::Credentials {
            access_key_id: credentials.access_key_id.clone(),
            secret_access_key: credentials.secret_access_key.to_string(),
            session_token: credentials.session_token.as_ref().map(|t| t.to_string()),
        })
    }
}

/// Sends with wasmtime-wasi-http's client, within the host's limits where the guest set none.
struct Hooks(HostTimeouts);

type SendFuture = Box<
    dyn Future<
            Output = std::result::Result<
                (
                    http::Response<WasiBody>,
                    Box<
                        dyn Future<Output = std::result::Result<(), wasmtime_wasi_http::Error>>
                            + Send,
                    >,
                ),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for Hooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = std::result::Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> SendFuture {
        drop(fut);
        let given = options.unwrap_or_default();
        let options = RequestOptions {
            connect_timeout: given.connect_timeout.or(Some(self.0.connect)),
            first_byte_timeout: given.first_byte_timeout.or(Some(self.0.first_byte)),
            between_bytes_timeout: given.between_bytes_timeout.or(Some(self.0.between_bytes)),
        };
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// A wall clock stopped at one instant.
struct FixedClock(Duration);

impl HostWallClock for FixedClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}

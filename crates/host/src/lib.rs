//! A wasmtime host for the sigv4 signer component (`wit/`, world `signer`).
//!
//! The component is compiled once ([`SignerComponent::new`]) and pre-instantiated
//! (`InstancePre`); each [`SignerInstance`] is a cheap instantiation holding one `signer`
//! resource: one configuration (credentials, region, service, settings) checked once, and the
//! signing-key cache. All signing runs inside the component: this crate only moves values across
//! the boundary.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod credentials;
pub mod upload;

use std::sync::OnceLock;
use wasmtime::component::{Component, InstancePre, Linker, ResourceAny};

use wasmtime::error::Context;
use wasmtime::{Config, Engine, Result, Store};

/// Generated from `wit/` by wasmtime (its docs are the WIT's). The agent world exports the
/// `signing` interface too, so these bindings serve both components.
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "agent",
        path: "../../wit",
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        },
        additional_derives: [PartialEq, Eq, Clone],
        require_store_data_send: true,
    });
}

pub mod agent;

use bindings::exports::sigv4::core::signing::{Guest as SigningExports, GuestIndices};

pub use bindings::exports::sigv4::core::signing::{
    Algorithm, Credentials, Error, ErrorCode, Explained, Field, Header, Location, Payload,
    Rejection, RejectionCode, Request, SessionTokenMode, Settings, Signed, SignerConfig,
    UriEncoding, Verified, VerifyParams,
};

/// The signer component, built from `crates/component` and embedded at compile time.
pub const SIGNER_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sigv4_signer.wasm"));

/// The compiled, pre-instantiated signer component. Compile once, instantiate per use.
pub struct SignerComponent {
    engine: Engine,
    pre: InstancePre<()>,
    signing: GuestIndices,
}

impl SignerComponent {
    /// Compiles the embedded component.
    pub fn new() -> Result<Self> {
        Self::from_bytes(SIGNER_COMPONENT)
    }

    /// The embedded component, compiled once per process on first use: the CLI, the credential
    /// providers (STS AssumeRole) and every client share it, so start-up compiles it once.
    pub fn shared() -> Result<&'static SignerComponent> {
        static SHARED: OnceLock<std::result::Result<SignerComponent, String>> = OnceLock::new();
        match SHARED.get_or_init(|| SignerComponent::new().map_err(|e| format!("{e:#}"))) {
            Ok(component) => Ok(component),
            Err(message) => Err(wasmtime::format_err!("{message}")),
        }
    }

    /// Compiles a signer component (binary or WAT).
    pub fn from_bytes(component: &[u8]) -> Result<Self> {
        let engine = Engine::new(&Config::new())?;
        let component =
            Component::new(&engine, component).context("compile the signer component")?;
        // The signer world imports nothing: an empty linker must do.
        let linker = Linker::new(&engine);
        let pre = linker.instantiate_pre(&component)?;
        let signing = GuestIndices::new(&pre)?;
        Ok(SignerComponent {
            engine,
            pre,
            signing,
        })
    }

    /// A fresh instance with a `signer` resource for `config`.
    pub fn signer(&self, config: &SignerConfig) -> Result<SignerInstance, CallError> {
        let mut store = Store::new(&self.engine, ());
        let instance = self.pre.instantiate(&mut store)?;
        let bindings = self.signing.load(&mut store, &instance)?;
        let signer = bindings.signer().call_create(&mut store, config)??;
        Ok(SignerInstance {
            store,
            bindings,
            signer,
        })
    }
}

impl SignerComponent {
    /// A fresh instance with a `verifier` resource.
    pub fn verifier(&self) -> Result<VerifierInstance> {
        let mut store = Store::new(&self.engine, ());
        let instance = self.pre.instantiate(&mut store)?;
        let bindings = self.signing.load(&mut store, &instance)?;
        let verifier = bindings.verifier().call_constructor(&mut store)?;
        Ok(VerifierInstance {
            store,
            bindings,
            verifier,
        })
    }
}

/// One instance of the component and its `verifier` resource (its signing-key cache).
pub struct VerifierInstance {
    store: Store<()>,
    bindings: SigningExports,
    verifier: ResourceAny,
}

impl VerifierInstance {
    /// Verifies `request` with the secret in `keys` of the access key id it claims: the
    /// verdict, or the runtime's failure.
    pub fn verify(
        &mut self,
        request: &Request,
        params: &VerifyParams,
        keys: &[Credentials],
    ) -> Result<std::result::Result<Verified, Rejection>> {
        self.bindings
            .verifier()
            .call_verify(&mut self.store, self.verifier, request, params, keys)
    }
}

/// Why a call into the component gave no result.
#[derive(Debug)]
pub enum CallError {
    /// The component's typed error about the input (it names the field, never a secret).
    Invalid(Error),
    /// The runtime failed (a trap, or the component could not be instantiated).
    Runtime(wasmtime::Error),
}

impl From<Error> for CallError {
    fn from(error: Error) -> Self {
        CallError::Invalid(error)
    }
}

impl From<wasmtime::Error> for CallError {
    fn from(error: wasmtime::Error) -> Self {
        CallError::Runtime(error)
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Invalid(error) => f.write_str(&error.message),
            CallError::Runtime(error) => write!(f, "the signer component failed: {error:#}"),
        }
    }
}

impl std::error::Error for CallError {}

/// One instance of the component and its `signer` resource.
pub struct SignerInstance {
    store: Store<()>,
    bindings: SigningExports,
    signer: ResourceAny,
}

impl SignerInstance {
    /// Header signing at `time` (seconds since the Unix epoch): the headers to set.
    pub fn sign(&mut self, request: &Request, time: u64) -> Result<Signed, CallError> {
        Ok(self
            .bindings
            .signer()
            .call_sign(&mut self.store, self.signer, request, time)??)
    }

    /// Query signing: the presigned URL, valid for `expires_in` seconds.
    pub fn presign(
        &mut self,
        request: &Request,
        time: u64,
        expires_in: u64,
    ) -> Result<Signed, CallError> {
        Ok(self.bindings.signer().call_presign(
            &mut self.store,
            self.signer,
            request,
            time,
            expires_in,
        )??)
    }

    /// Signs or presigns, and returns the canonical request and string to sign too.
    pub fn explain(
        &mut self,
        request: &Request,
        time: u64,
        location: Location,
    ) -> Result<Explained, CallError> {
        Ok(self.bindings.signer().call_explain(
            &mut self.store,
            self.signer,
            request,
            time,
            location,
        )??)
    }

    /// Replaces the credentials (after a refresh).
    pub fn set_credentials(&mut self, credentials: &Credentials) -> Result<(), CallError> {
        Ok(self.bindings.signer().call_set_credentials(
            &mut self.store,
            self.signer,
            credentials,
        )??)
    }
}

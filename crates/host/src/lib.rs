//! A wasmtime host for the sigv4 signer component (`wit/`, world `signer`).
//!
//! The component is compiled once ([`SignerComponent::new`]) and pre-instantiated
//! (`InstancePre`); each [`SignerInstance`] is a cheap instantiation holding one `signer`
//! resource, whose signing-key cache lives as long as the instance. All signing runs inside the
//! component: this crate only moves values across the boundary.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod credentials;

use std::sync::OnceLock;
use wasmtime::component::{Component, Linker, ResourceAny};

use wasmtime::error::Context;
use wasmtime::{Config, Engine, Result, Store};

/// Generated from `wit/` by wasmtime (its docs are the WIT's).
#[allow(missing_docs)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "signer",
        path: "../../wit",
        additional_derives: [PartialEq, Eq, Clone],
    });
}

pub use bindings::exports::sigv4::core::signing::{
    Credentials, Error, ErrorCode, Explained, Field, Header, Location, Payload, Request, Scope,
    SessionTokenMode, Settings, Signed, UriEncoding,
};

/// The signer component, built from `crates/component` and embedded at compile time.
pub const SIGNER_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sigv4_signer.wasm"));

/// The compiled, pre-instantiated signer component. Compile once, instantiate per use.
pub struct SignerComponent {
    engine: Engine,
    pre: bindings::SignerPre<()>,
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
        let pre = bindings::SignerPre::new(linker.instantiate_pre(&component)?)?;
        Ok(SignerComponent { engine, pre })
    }

    /// A fresh instance with its own `signer` resource.
    pub fn instantiate(&self) -> Result<SignerInstance> {
        let mut store = Store::new(&self.engine, ());
        let bindings = self.pre.instantiate(&mut store)?;
        let signer = bindings
            .sigv4_core_signing()
            .signer()
            .call_constructor(&mut store)?;
        Ok(SignerInstance {
            store,
            bindings,
            signer,
        })
    }
}

/// One instance of the component and its `signer` resource.
pub struct SignerInstance {
    store: Store<()>,
    bindings: bindings::Signer,
    signer: ResourceAny,
}

impl SignerInstance {
    /// Signs through the component. The outer error is a failure of the runtime (a trap), the
    /// inner one the component's typed error about the input.
    pub fn sign(
        &mut self,
        credentials: &Credentials,
        request: &Request,
        scope: &Scope,
        settings: &Settings,
        location: Location,
    ) -> Result<Result<Signed, Error>> {
        self.bindings.sigv4_core_signing().signer().call_sign(
            &mut self.store,
            self.signer,
            credentials,
            request,
            scope,
            settings,
            location,
        )
    }

    /// Signs and returns the canonical request and string to sign too.
    pub fn explain(
        &mut self,
        credentials: &Credentials,
        request: &Request,
        scope: &Scope,
        settings: &Settings,
        location: Location,
    ) -> Result<Result<Explained, Error>> {
        self.bindings.sigv4_core_signing().signer().call_explain(
            &mut self.store,
            self.signer,
            credentials,
            request,
            scope,
            settings,
            location,
        )
    }
}

impl Settings {
    /// The defaults of every service but S3 (double encoding, normalized paths).
    pub fn standard() -> Self {
        Settings {
            uri_encoding: UriEncoding::Double,
            normalize_path: true,
            content_sha256_header: false,
            session_token: SessionTokenMode::Signed,
            excluded_headers: Vec::new(),
            forced_headers: Vec::new(),
        }
    }

    /// S3's rules: the path as sent, no normalization, `x-amz-content-sha256`.
    pub fn s3() -> Self {
        Settings {
            uri_encoding: UriEncoding::Single,
            normalize_path: false,
            content_sha256_header: true,
            ..Settings::standard()
        }
    }
}

//! An Envoy HTTP filter (proxy-wasm) that signs requests to AWS with the sigv4 core: a drop-in
//! for the common configuration of Envoy's native `envoy.filters.http.aws_request_signing`
//! filter (see README.md), built to a `.wasm` that Envoy runs in its V8 runtime.
//!
//! The configuration and signing modules need no proxy and are tested natively; the proxy-wasm
//! glue (`filter`) exists only in the WebAssembly build.

pub mod config;
pub mod credentials;
pub mod env;
pub mod header_map;
pub mod sign;

#[cfg(target_arch = "wasm32")]
mod filter;

/// Each Envoy worker runs its own single-threaded VM: talc's unlocked allocator is safe.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[cfg(target_arch = "wasm32")]
proxy_wasm::main! {{
    proxy_wasm::set_log_level(proxy_wasm::types::LogLevel::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(filter::Root::new())
    });
}}

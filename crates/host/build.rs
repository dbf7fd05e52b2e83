//! Builds both components of `crates/component`: the `signer` world, then (feature `agent`) the
//! `agent` world, each compiled for wasm32-unknown-unknown by a nested cargo with its own target
//! directory and wrapped into a component by `wit-component` (what `wasm-tools component new`
//! does). The host embeds both.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../..");
    for watched in [
        "crates/core/src",
        "crates/core/Cargo.toml",
        "crates/component",
        "wit",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    // A target directory per world, so that neither rebuild undoes the other.
    for (features, dir, name) in [
        (None, "target/component", "sigv4_signer.wasm"),
        (Some("agent"), "target/component-agent", "sigv4_agent.wasm"),
    ] {
        let module = build_module(&root, &root.join(dir), features);
        let component = wit_component::ComponentEncoder::default()
            .module(&module)
            .and_then(|encoder| encoder.validate(true).encode())
            .unwrap_or_else(|e| panic!("encode {name}: {e:#}"));
        fs::write(out_dir.join(name), component).expect("write the component");
    }
}

/// The core module of `sigv4-component` with `features`.
fn build_module(root: &Path, target_dir: &Path, features: Option<&str>) -> Vec<u8> {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "--locked", "-q", "-p", "sigv4-component", "--lib"])
        .args([
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "component",
        ])
        .arg("--target-dir")
        .arg(target_dir);
    if let Some(features) = features {
        build.args(["--features", features]);
    }
    // The outer build's flags and wrappers (clippy, coverage) are not for the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
    ] {
        build.env_remove(var);
    }
    let status = build
        .status()
        .expect("run cargo to build the sigv4 component");
    assert!(
        status.success(),
        "building sigv4-component for wasm32-unknown-unknown failed (is the target installed? `make test` installs it)"
    );
    let module_path = target_dir.join("wasm32-unknown-unknown/component/sigv4_component.wasm");
    fs::read(&module_path).unwrap_or_else(|e| panic!("{}: {e}", module_path.display()))
}

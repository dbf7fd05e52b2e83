//! Signing through the component in wasmtime vs the native core, in one run: per-signature time,
//! the per-call overhead of crossing into the component, and instantiation from `InstancePre`.
//!
//! The native core uses the CPU's SHA-256 instructions; WebAssembly has none (the component hashes
//! with 128-bit SIMD). `make bench` also runs this benchmark built with `--cfg
//! sha2_backend="soft"`, where the native core hashes in software as on a CPU without SHA
//! instructions: that ratio is the cost of WebAssembly itself.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group};
use sigv4_host::{Algorithm, Credentials, Header, Payload, Request, SignerComponent, SignerConfig};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str =
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampletokenexampletokenexampletoken";
const TIME: u64 = 1_700_000_000;
const BODY: &[u8] = br#"{"TableName":"Music","Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}}"#;

/// The POST of the core benchmark: a JSON body and a session token (DynamoDB GetItem).
fn post_json() -> (SignerConfig, Request) {
    let config = SignerConfig {
        credentials: Credentials {
            access_key_id: AKID.into(),
            secret_access_key: SECRET.into(),
            session_token: Some(TOKEN.into()),
        },
        region: "us-east-1".into(),
        service: "dynamodb".into(),
        algorithm: None,
        settings: None,
    };
    let header = |name: &str, value: &str| Header {
        name: name.into(),
        value: value.into(),
    };
    let request = Request {
        method: "POST".into(),
        uri: "https://dynamodb.us-east-1.amazonaws.com/".into(),
        headers: vec![
            header("content-type", "application/x-amz-json-1.0"),
            header("x-amz-target", "DynamoDB_20120810.GetItem"),
        ],
        payload: Payload::Bytes(BODY.to_vec()),
    };
    (config, request)
}

/// The same POST signed with SigV4a for a region set (ECDSA P-256: the signing dominates).
fn post_json_v4a() -> (SignerConfig, Request) {
    let (config, request) = post_json();
    let config = SignerConfig {
        region: V4A_REGION_SET.into(),
        algorithm: Some(Algorithm::Sigv4a),
        ..config
    };
    (config, request)
}

const V4A_REGION_SET: &str = "us-east-1,us-west-2";

fn sign_native(
    signer: &mut sigv4_core::Signer,
    credentials: &sigv4_core::Credentials,
) -> sigv4_core::Signed {
    sign_native_with(
        signer,
        credentials,
        sigv4_core::Algorithm::SigV4,
        "us-east-1",
    )
}

fn sign_native_with(
    signer: &mut sigv4_core::Signer,
    credentials: &sigv4_core::Credentials,
    algorithm: sigv4_core::Algorithm,
    region: &str,
) -> sigv4_core::Signed {
    let headers = [
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "DynamoDB_20120810.GetItem"),
    ];
    let request = sigv4_core::Request {
        method: "POST",
        uri: "https://dynamodb.us-east-1.amazonaws.com/",
        headers: &headers,
        payload: sigv4_core::Payload::Bytes(BODY),
    };
    let params = sigv4_core::SigningParams {
        credentials,
        region,
        service: "dynamodb",
        time: sigv4_core::Timestamp::from_unix_seconds(TIME).unwrap(),
        settings: sigv4_core::Settings {
            algorithm,
            ..sigv4_core::Settings::default()
        },
    };
    signer
        .sign(&request, &params, sigv4_core::Location::Headers)
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let component = SignerComponent::new().unwrap();
    let (config, request) = post_json();
    let mut instance = component.signer(&config).unwrap();
    let native_credentials = sigv4_core::Credentials::new(AKID, SECRET, Some(TOKEN)).unwrap();
    let mut native = sigv4_core::Signer::new();
    let wasm_signature = instance.sign(&request, TIME).unwrap().signature;
    assert_eq!(
        wasm_signature,
        sign_native(&mut native, &native_credentials)
            .signature
            .as_str()
    );

    let mut group = c.benchmark_group("component");
    group.bench_function("native_sign", |b| {
        b.iter(|| sign_native(&mut native, black_box(&native_credentials)))
    });
    group.bench_function("component_sign", |b| {
        b.iter(|| instance.sign(black_box(&request), TIME))
    });
    // Crossing the boundary with the least work: a request rejected at its first check.
    let empty_method = Request {
        method: String::new(),
        ..request.clone()
    };
    group.bench_function("component_call_overhead", |b| {
        b.iter(|| instance.sign(black_box(&empty_method), TIME))
    });
    // SigV4a: deterministic (RFC 6979), so the component's signature is the native core's.
    let (v4a_config, v4a_request) = post_json_v4a();
    let mut v4a_instance = component.signer(&v4a_config).unwrap();
    let v4a = sigv4_core::Algorithm::SigV4a;
    assert_eq!(
        v4a_instance.sign(&v4a_request, TIME).unwrap().signature,
        sign_native_with(&mut native, &native_credentials, v4a, V4A_REGION_SET)
            .signature
            .as_str()
    );
    group.bench_function("native_sign_v4a", |b| {
        b.iter(|| {
            sign_native_with(
                &mut native,
                black_box(&native_credentials),
                v4a,
                V4A_REGION_SET,
            )
        })
    });
    group.bench_function("component_sign_v4a", |b| {
        b.iter(|| v4a_instance.sign(black_box(&v4a_request), TIME))
    });
    // A new instance and its signer resource (the `create` call checks the configuration).
    group.bench_function("instantiate_from_instance_pre", |b| {
        b.iter(|| component.signer(black_box(&config)).unwrap())
    });
    group.finish();
}

fn median_ns(bench: &str) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_string());
    let text = std::fs::read_to_string(format!(
        "{dir}/criterion/component/{bench}/new/estimates.json"
    ))
    .ok()?;
    let at = text.find("\"median\":")?;
    let rest = &text[at..];
    let start = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let end = rest[start..].find([',', '}'])?;
    rest[start..start + end].trim().parse().ok()
}

fn report() {
    let sha = if cfg!(sha2_backend = "soft") {
        "software SHA-256"
    } else {
        "SHA-256 CPU instructions"
    };
    let [Some(native), Some(wasm), Some(call), Some(instantiate)] = [
        "native_sign",
        "component_sign",
        "component_call_overhead",
        "instantiate_from_instance_pre",
    ]
    .map(median_ns) else {
        println!("(no estimates: run without a filter)");
        return;
    };
    println!(
        "\ncomponent in wasmtime vs native core (POST with body and token, median, same run):"
    );
    println!("  native core ({sha}): {:.2} us", native / 1000.0);
    println!(
        "  component sign:      {:.2} us  = {:.2}x native",
        wasm / 1000.0,
        wasm / native
    );
    println!(
        "  per-call overhead:   {:.2} us (an input rejected at its first check)",
        call / 1000.0
    );
    println!(
        "  instantiate from InstancePre (with the signer's create call): {:.1} us",
        instantiate / 1000.0
    );
    if let [Some(native), Some(wasm)] = ["native_sign_v4a", "component_sign_v4a"].map(median_ns) {
        println!(
            "  SigV4a (cached key): native {:.1} us, component {:.1} us = {:.2}x native",
            native / 1000.0,
            wasm / 1000.0,
            wasm / native
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}

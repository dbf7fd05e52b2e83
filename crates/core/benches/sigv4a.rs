//! SigV4a: signs the same typical requests with this core and with the `aws-sigv4` crate's v4a
//! signer in one run, then prints each ratio. The machine is shared and noisy: only the ratios
//! within one run mean anything, and the paired ratio (the two signers timed in alternating
//! rounds, the ratio taken per round) is the one that sees the same load on both sides.
//!
//! Both sides sign with ECDSA P-256 over the same string to sign; most of a signature is the
//! nonce's scalar multiplication and inversion, the same code (RustCrypto's `p256`) on both
//! sides. Ours keeps the derived key in the `Signer`; aws-sigv4 runs the key derivation (its
//! HMACs, no scalar multiplication) on every call. `core_fresh_key` derives ours on every call,
//! which costs a scalar multiplication more (the public point, computed with the key).

mod paired;

use paired::{Rounds, median_ns, paired_ratio};

use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningInstructions, SigningSettings, UriPathNormalizationMode, sign as aws_sign,
};
use aws_sigv4::sign::v4a;
use aws_smithy_runtime_api::client::identity::Identity;
use criterion::{Criterion, criterion_group};
use sigv4_core::{
    Algorithm, Credentials, Location, Payload, Request, Settings, Signed, Signer, SigningParams,
    Timestamp, sigv4a_public_key, sigv4a_signature_is_valid,
};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str =
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampletokenexampletokenexampletoken";
const TIME: u64 = 1_700_000_000;
const REGION_SET: &str = "us-east-1,us-west-2";

/// One typical request, described once for both signers.
struct Scenario {
    name: &'static str,
    method: &'static str,
    uri: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    token: bool,
    s3: bool,
    presign: Option<u64>,
    service: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "v4a_mrap_get",
        method: "GET",
        uri: "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/photos/2024/cat.jpg",
        headers: &[("accept", "image/jpeg")],
        body: b"",
        token: false,
        s3: true,
        presign: None,
        service: "s3",
    },
    Scenario {
        name: "v4a_post_json_with_token",
        method: "POST",
        uri: "https://events.global.api.aws/",
        headers: &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSEvents.PutEvents"),
        ],
        body: br#"{"Entries":[{"Source":"agent","DetailType":"heartbeat","Detail":"{}"}]}"#,
        token: true,
        s3: false,
        presign: None,
        service: "events",
    },
    Scenario {
        name: "v4a_mrap_presign",
        method: "GET",
        uri: "https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com/photos/2024/cat%20picture.jpg",
        headers: &[],
        body: b"",
        token: false,
        s3: true,
        presign: Some(3600),
        service: "s3",
    },
];

fn sign_core(s: &Scenario, credentials: &Credentials, signer: &mut Signer) -> Signed {
    explain_core(s, credentials, signer).signed
}

fn explain_core(
    s: &Scenario,
    credentials: &Credentials,
    signer: &mut Signer,
) -> sigv4_core::Explained {
    let request = Request {
        method: s.method,
        uri: s.uri,
        headers: s.headers,
        payload: if s.presign.is_some() {
            Payload::Unsigned
        } else {
            Payload::Bytes(s.body)
        },
    };
    let rules = if s.s3 {
        Settings::s3()
    } else {
        Settings::default()
    };
    let params = SigningParams {
        credentials,
        region: REGION_SET,
        service: s.service,
        time: Timestamp::from_unix_seconds(TIME).unwrap(),
        settings: Settings {
            algorithm: Algorithm::SigV4a,
            ..rules
        },
    };
    let location = match s.presign {
        Some(expires_in) => Location::Query { expires_in },
        None => Location::Headers,
    };
    signer.explain(&request, &params, location).unwrap()
}

fn aws_settings(s: &Scenario) -> SigningSettings {
    let mut settings = SigningSettings::default();
    if s.s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if let Some(expires_in) = s.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires_in));
        settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
    }
    settings
}

fn sign_aws(
    s: &Scenario,
    identity: &Identity,
    settings: &SigningSettings,
) -> (SigningInstructions, String) {
    let params = v4a::SigningParams::builder()
        .identity(identity)
        .region_set(REGION_SET)
        .name(s.service)
        .time(UNIX_EPOCH + Duration::from_secs(TIME))
        .settings(settings.clone())
        .build()
        .unwrap()
        .into();
    let body = if s.presign.is_some() {
        SignableBody::UnsignedPayload
    } else {
        SignableBody::Bytes(s.body)
    };
    let request = SignableRequest::new(s.method, s.uri, s.headers.iter().copied(), body).unwrap();
    aws_sign(request, &params).unwrap().into_parts()
}

fn credentials(s: &Scenario) -> (Credentials, Identity) {
    let token = s.token.then_some(TOKEN);
    let ours = Credentials::new(AKID, SECRET, token).unwrap();
    let theirs = AwsCredentials::new(AKID, SECRET, token.map(String::from), None, "bench").into();
    (ours, theirs)
}

/// Each scenario's aws-sigv4/cached time ratio, paired: its quartiles over the rounds.
static PAIRED: Mutex<Vec<(&str, [f64; 3])>> = Mutex::new(Vec::new());

fn bench_signers(c: &mut Criterion) {
    for s in SCENARIOS {
        let (ours, theirs) = credentials(s);
        let settings = aws_settings(s);
        // Both signers must sign the same string with the same key before their speed means
        // anything: aws-sigv4's (randomized) signature is valid for our string to sign.
        let explained = explain_core(s, &ours, &mut Signer::new());
        let public_key = sigv4a_public_key(&ours).unwrap();
        assert!(
            sigv4a_signature_is_valid(
                &public_key,
                &explained.string_to_sign,
                &sign_aws(s, &theirs, &settings).1
            ),
            "{}",
            s.name
        );
        let mut group = c.benchmark_group(s.name);
        let mut signer = Signer::new();
        group.bench_function("core_cached_key", |b| {
            b.iter(|| sign_core(black_box(s), &ours, &mut signer))
        });
        let mut forgetful = Signer::new();
        group.bench_function("core_fresh_key", |b| {
            b.iter(|| {
                forgetful.forget_key();
                sign_core(black_box(s), &ours, &mut forgetful)
            })
        });
        group.bench_function("aws_sigv4", |b| {
            b.iter(|| sign_aws(black_box(s), &theirs, &settings))
        });
        group.finish();
        let ratios = paired_ratio(
            &ROUNDS,
            || drop(black_box(sign_core(black_box(s), &ours, &mut signer))),
            || drop(black_box(sign_aws(black_box(s), &theirs, &settings))),
        );
        PAIRED.lock().unwrap().push((s.name, ratios));
    }
}

/// How many calls each side of a paired round times.
const PAIRED_CALLS: u32 = 10;
const ROUNDS: Rounds = Rounds {
    calls: PAIRED_CALLS,
    warmup: 20,
    rounds: 501,
};

fn report(started: SystemTime) {
    println!("\nsigv4-core vs aws-sigv4, SigV4a (median time per signature, same run):");
    println!("  cached: one Signer, the ECDSA key cached; fresh: the key derived on every call.");
    println!(
        "{:<26} {:>9} {:>9} {:>10} {:>9} {:>8}",
        "request", "cached", "fresh", "aws-sigv4", "x cached", "x fresh"
    );
    for s in SCENARIOS {
        let estimates = ["core_cached_key", "core_fresh_key", "aws_sigv4"]
            .map(|bench| median_ns(s.name, bench, started));
        let [Some(cached), Some(fresh), Some(aws)] = estimates else {
            println!(
                "{:<26} (no estimates from this run: run without a filter)",
                s.name
            );
            continue;
        };
        let us = |ns: f64| format!("{:.1}us", ns / 1000.0);
        let ratio = |ns: f64| format!("{:.2}x", aws / ns);
        println!(
            "{:<26} {:>9} {:>9} {:>10} {:>9} {:>8}",
            s.name,
            us(cached),
            us(fresh),
            us(aws),
            ratio(cached),
            ratio(fresh)
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = bench_signers
}

fn main() {
    let started = SystemTime::now();
    benches();
    Criterion::default().configure_from_args().final_summary();
    report(started);
    println!(
        "\naws-sigv4/cached paired (alternating rounds of {PAIRED_CALLS} calls each; the median \
         and quartiles over the rounds; above 1.0x ours is faster):"
    );
    for (name, [q1, median, q3]) in PAIRED.lock().unwrap().iter() {
        println!("{name:<26} {median:>6.2}x  ({q1:.2}x-{q3:.2}x)");
    }
}

//! Differential property tests: thousands of random requests signed by this core and by the AWS
//! SDK for Rust's signer (`aws-sigv4`) must give the same signature and signed headers; with
//! SigV4a, whose signatures aws-sigv4 randomizes, the same headers or parameters, and each side's
//! signature valid for the other's string to sign and key.
//!
//! Where the two signers legitimately differ the generators stay out of the way, and say why:
//! - `expect` is excluded by default here (a proxy may drop `Expect: 100-continue`) but not by
//!   aws-sigv4, so the generated headers never include it.
//! - aws-sigv4 only trims spaces at the ends of a header value; a leading or trailing tab is
//!   optional whitespace that HTTP parsers strip before the service sees it, so we trim it too.
//!   Generated values hold spaces at their ends, and tabs only inside.
//! - aws-sigv4 needs a path that `http::Uri` accepts (the wire form); raw spaces and non-ASCII
//!   characters, which this core also accepts, are covered by the AWS suite instead.

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials as AwsCredentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SessionTokenMode as AwsTokenMode, SignableBody,
    SignableRequest, SignatureLocation, SigningSettings, UriPathNormalizationMode,
    sign as aws_sign,
};
use aws_sigv4::sign::{v4, v4a};
use aws_smithy_runtime_api::client::identity::Identity;
use proptest::prelude::*;
use sigv4_core::{
    Algorithm, Credentials, Explained, Location, Payload, Rejection, Request, SessionTokenMode,
    Settings, Signer, SigningParams, Timestamp, Verified, VerifyParams, sigv4a_public_key,
    sigv4a_signature_is_valid,
};

/// Pieces of a path segment as they appear on the wire: unreserved and reserved characters that
/// are valid in a path, and escapes (upper- and lowercase) of characters that are not.
#[rustfmt::skip]
const PATH_PIECES: &[&str] = &[
    "a", "Z", "0", "-", ".", "_", "~", "*", "!", "'", "(", ")", "@", ":", "$", "&", "+", ",", ";",
    "=", "%20", "%2F", "%25", "%3A", "%3a", "%2B", "%C3%A9", "%E1%88%B4", "%3F", "%23", "%7E",
    "%41", "photo", "my key",
];

/// Pieces of a query name or value on the wire.
#[rustfmt::skip]
const QUERY_PIECES: &[&str] = &[
    "a", "B", "9", "-", ".", "_", "~", "*", "!", "'", "(", ")", "@", ":", "$", "+", ",", ";", "/",
    "?", "%20", "%2B", "%26", "%3D", "%25", "%C3%A9", "%e1%88%b4", "%7E", "%2F", "%zz", "%",
    "list-type", "prefix",
];

fn pieces(set: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(set), 0..max)
        .prop_map(|p| p.concat().replace(' ', "%20"))
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        6 => pieces(PATH_PIECES, 5),
        1 => Just(".".to_string()),
        1 => Just("..".to_string()),
    ];
    (prop::collection::vec(segment, 0..6), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        path
    })
}

fn query() -> impl Strategy<Value = String> {
    let key = prop_oneof![
        pieces(QUERY_PIECES, 4),
        prop::sample::select(&["a", "b", "prefix"][..]).prop_map(String::from)
    ];
    let pair = (key, prop::option::of(pieces(QUERY_PIECES, 4))).prop_map(|(k, v)| match v {
        Some(v) => format!("{k}={v}"),
        None => k,
    });
    prop::collection::vec(pair, 0..6).prop_map(|pairs| pairs.join("&"))
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        prop::sample::select(
            &[
                "x-custom",
                "X-Custom",
                "content-type",
                "Content-Type",
                "x-amz-meta-a",
                "My-Header1",
                "accept",
                "range",
                "user-agent",
                "x-amzn-trace-id",
                "content-md5"
            ][..]
        )
        .prop_map(String::from),
        "[a-z][a-z0-9-]{0,10}",
    ];
    let value = (
        "[ ]{0,3}",
        "[!-~é]([!-~é \t]{0,12}[!-~é])?",
        "[ ]{0,3}",
        "[ ]{0,3}",
        "[!-~]{0,6}",
    )
        .prop_map(|(lead, core, gap, trail, more)| format!("{lead}{core}{gap}{more}{trail}"));
    prop::collection::vec((name, value), 0..6)
}

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    Precomputed(String),
    Unsigned,
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Body::Bytes),
        1 => "[0-9a-f]{64}".prop_map(Body::Precomputed),
        1 => Just(Body::Unsigned),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Body,
    token: Option<String>,
    token_after_signing: bool,
    s3: bool,
    normalize: bool,
    expires_in: Option<u64>,
    time: u64,
    /// The region, or with `sigv4a` the region set.
    region: &'static str,
    service: &'static str,
    sigv4a: bool,
    access_key_id: String,
    secret: String,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop::sample::select(&["GET", "PUT", "POST", "DELETE", "HEAD"][..]),
            path(),
            query(),
            headers(),
            body(),
        ),
        (
            prop::option::of("[A-Za-z0-9/+=]{8,48}"),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            prop::option::of(1u64..=604_800),
            946_684_800u64..1_893_456_000,
            prop::sample::select(&["us-east-1", "eu-west-3", "ap-southeast-2"][..]),
            prop::sample::select(&["s3", "sts", "execute-api", "lambda"][..]),
        ),
    )
        .prop_map(
            |(
                (method, path, query, headers, body),
                (token, token_after_signing, s3, normalize, expires_in, time, region, service),
            )| Case {
                method,
                path,
                query,
                headers,
                body,
                token,
                token_after_signing,
                s3,
                normalize,
                expires_in,
                time,
                region,
                service,
                sigv4a: false,
                access_key_id: AKID.into(),
                secret: SECRET.into(),
            },
        )
}

/// A SigV4a case: a region set, and credentials of their own (the key is derived from them).
fn v4a_case() -> impl Strategy<Value = Case> {
    (
        case(),
        prop::sample::select(&["us-east-1", "*", "us-east-1,us-west-2", "eu-*,ap-south-1"][..]),
        "[A-Z0-9]{16,20}",
        "[A-Za-z0-9/+]{40}",
    )
        .prop_map(|(case, region_set, access_key_id, secret)| Case {
            region: region_set,
            sigv4a: true,
            access_key_id,
            secret,
            ..case
        })
}

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// What a signer produced: the signature, and the headers or query parameters it adds.
#[derive(Debug, PartialEq)]
struct Output {
    signature: String,
    added: Vec<(String, String)>,
}

fn uri(case: &Case) -> String {
    let mut uri = format!("https://example.amazonaws.com{}", case.path);
    if !case.query.is_empty() {
        uri.push('?');
        uri.push_str(&case.query);
    }
    uri
}

/// The case's body as the core's payload.
fn payload(case: &Case) -> Payload<'_> {
    match &case.body {
        Body::Bytes(b) => Payload::Bytes(b),
        Body::Precomputed(h) => Payload::Sha256Hex(h),
        Body::Unsigned => Payload::Unsigned,
    }
}

/// The core's settings for the case: S3's, or the standard ones with its normalization; the
/// token after signing if the case says so.
fn settings(case: &Case) -> Settings<'static> {
    let mut settings = if case.s3 {
        Settings::s3()
    } else {
        Settings {
            normalize_path: case.normalize,
            ..Settings::default()
        }
    };
    if case.token_after_signing {
        settings.session_token = SessionTokenMode::AfterSigning;
    }
    if case.sigv4a {
        settings.algorithm = Algorithm::SigV4a;
    }
    settings
}

fn credentials(case: &Case) -> Credentials {
    Credentials::new(&case.access_key_id, &case.secret, case.token.as_deref())
        .expect("generated credentials are valid")
}

fn sign_with_core(
    case: &Case,
    signer: &mut Signer,
) -> Result<(Output, Explained), sigv4_core::Error> {
    let credentials = credentials(case);
    let headers: Vec<(&str, &str)> = case
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let uri = uri(case);
    let request = Request {
        method: case.method,
        uri: &uri,
        headers: &headers,
        payload: payload(case),
    };
    let params = SigningParams {
        credentials: &credentials,
        region: case.region,
        service: case.service,
        time: Timestamp::from_unix_seconds(case.time)?,
        settings: settings(case),
    };
    let location = match case.expires_in {
        Some(expires_in) => Location::Query { expires_in },
        None => Location::Headers,
    };
    let out = signer.explain(&request, &params, location)?;
    let added = match out.signed.url() {
        // The parameters the signer appended, decoded, to compare with aws-sigv4's.
        Some(url) => {
            let appended = &url[url.find("X-Amz-Algorithm=").unwrap_or(url.len())..];
            appended
                .split('&')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_string(), percent_decode(v)))
                .collect()
        }
        None => out
            .signed
            .headers()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    };
    Ok((
        Output {
            signature: out.signed.signature.as_str().into(),
            added,
        },
        out,
    ))
}

fn sign_with_aws_sigv4(case: &Case) -> Output {
    let identity: Identity = AwsCredentials::new(
        &case.access_key_id,
        &case.secret,
        case.token.clone(),
        None,
        "differential",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(vec![
        "authorization".into(),
        "user-agent".into(),
        "x-amzn-trace-id".into(),
        "transfer-encoding".into(),
    ]);
    if case.s3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        if case.expires_in.is_none() {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
    } else {
        settings.uri_path_normalization_mode = case.normalize.into();
    }
    if case.token_after_signing {
        settings.session_token_mode = AwsTokenMode::Exclude;
    }
    if let Some(expires_in) = case.expires_in {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(expires_in));
    }
    let time = UNIX_EPOCH + Duration::from_secs(case.time);
    let params = if case.sigv4a {
        v4a::SigningParams::builder()
            .identity(&identity)
            .region_set(case.region)
            .name(case.service)
            .time(time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into()
    } else {
        v4::SigningParams::builder()
            .identity(&identity)
            .region(case.region)
            .name(case.service)
            .time(time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into()
    };
    let body = match &case.body {
        // The S3 presigner of the AWS SDK signs UNSIGNED-PAYLOAD whatever the body, as the core
        // does with S3's rules.
        _ if case.s3 && case.expires_in.is_some() => SignableBody::UnsignedPayload,
        Body::Bytes(b) => SignableBody::Bytes(b),
        Body::Precomputed(h) => SignableBody::Precomputed(h.clone()),
        Body::Unsigned => SignableBody::UnsignedPayload,
    };
    let uri = uri(case);
    let request = SignableRequest::new(
        case.method,
        &uri,
        case.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        body,
    )
    .expect("aws-sigv4 accepts the generated request");
    let (instructions, signature) = aws_sign(request, &params)
        .expect("aws-sigv4 signs")
        .into_parts();
    let (headers, query) = instructions.into_parts();
    let mut added: Vec<(String, String)> = headers
        .iter()
        .map(|h| (h.name().to_string(), h.value().to_string()))
        .collect();
    added.extend(query.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Output { signature, added }
}

/// aws-sigv4's signed request, checked by the core's verifier: its headers set on the request, or
/// its parameters appended to the URL.
fn verify_theirs(case: &Case, theirs: &Output) -> Result<Verified<'static>, Rejection> {
    let mut uri = uri(case);
    let mut headers: Vec<(String, String)> = case.headers.clone();
    if case.expires_in.is_some() {
        for (name, value) in &theirs.added {
            uri.push(if uri.contains('?') { '&' } else { '?' });
            uri.push_str(name);
            uri.push('=');
            for b in value.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    uri.push(char::from(b));
                } else {
                    uri.push_str(&format!("%{b:02X}"));
                }
            }
        }
    } else {
        for (name, value) in &theirs.added {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
    }
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let request = Request {
        method: case.method,
        uri: &uri,
        headers: &headers,
        payload: payload(case),
    };
    // The verifier refuses an unsigned token unless the rules allow it, as these do.
    let params = VerifyParams {
        settings: Some(settings(case)),
        ..VerifyParams::new(Timestamp::from_unix_seconds(case.time).expect("time"))
    };
    Signer::new()
        .verify(&request, &params, |id| (id == AKID).then_some(SECRET))
        .map(Verified::into_owned)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

fn sorted(mut added: Vec<(String, String)>) -> Vec<(String, String)> {
    for (name, _) in added.iter_mut() {
        name.make_ascii_lowercase();
    }
    added.sort();
    added
}

thread_local! {
    static SHARED_SIGNER: std::cell::RefCell<Signer> = std::cell::RefCell::new(Signer::new());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn same_signature_as_aws_sigv4(case in case()) {
        let (ours, explained) = sign_with_core(&case, &mut Signer::new()).expect("the core signs every generated request");
        let theirs = sign_with_aws_sigv4(&case);
        prop_assert_eq!(&ours.signature, &theirs.signature, "canonical request (ours):\n{}", explained.canonical_request);
        // One long-lived signer across all cases: its caches (signing key, hash prefixes,
        // X-Amz-Date, buffers) must never carry anything from one request into another.
        let shared = SHARED_SIGNER.with(|signer| sign_with_core(&case, &mut signer.borrow_mut()));
        prop_assert_eq!(&shared.expect("the shared signer signs").0, &ours);
        // The core's verifier accepts what aws-sigv4 signed.
        let verdict = verify_theirs(&case, &theirs);
        prop_assert!(verdict.is_ok(), "{:?}: {:?}", verdict, case);
        prop_assert_eq!(sorted(ours.added), sorted(theirs.added));
    }
}

/// The headers or parameters added, but for the signature (randomized by aws-sigv4's SigV4a).
fn without_signature(added: Vec<(String, String)>) -> Vec<(String, String)> {
    sorted(added)
        .into_iter()
        .filter(|(name, _)| name != "x-amz-signature")
        .map(|(name, value)| match value.find("Signature=") {
            Some(end) if name == "authorization" => (name, value[..end].to_string()),
            _ => (name, value),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn same_sigv4a_string_to_sign_and_key_as_aws_sigv4(case in v4a_case()) {
        let (ours, explained) = sign_with_core(&case, &mut Signer::new()).expect("the core signs every generated request");
        let theirs = sign_with_aws_sigv4(&case);
        let public_key = sigv4a_public_key(&credentials(&case)).expect("a key");
        let sts = &explained.string_to_sign;
        // Their signature, of their string to sign with their key, is valid for our string to
        // sign and our public key: the strings to sign (so the canonical requests, which they
        // hash) and the keys are the same.
        prop_assert!(
            sigv4a_signature_is_valid(&public_key, sts, &theirs.signature),
            "canonical request (ours):\n{}\nstring to sign (ours):\n{}", explained.canonical_request, sts
        );
        prop_assert!(sigv4a_signature_is_valid(&public_key, sts, &ours.signature));
        // Their key, derived from the same credentials, signs our string to sign with a
        // signature our public key accepts: the KDFs agree (a signature by any other key fails).
        let their_key = v4a::generate_signing_key(&case.access_key_id, &case.secret);
        let by_their_key = v4a::calculate_signature(&their_key, sts.as_bytes());
        prop_assert!(sigv4a_signature_is_valid(&public_key, sts, &by_their_key));
        let other = format!("{sts}x");
        prop_assert!(!sigv4a_signature_is_valid(&public_key, &other, &by_their_key));
        prop_assert_eq!(without_signature(ours.added.clone()), without_signature(theirs.added));
        // RFC 6979: a long-lived signer, whose caches hold v4 and v4a keys, signs the same.
        let shared = SHARED_SIGNER.with(|signer| sign_with_core(&case, &mut signer.borrow_mut()));
        prop_assert_eq!(&shared.expect("the shared signer signs").0, &ours);
    }
}

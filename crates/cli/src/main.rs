//! `sigv4`: sign AWS requests from the command line with the SigV4 core.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::UNIX_EPOCH;

use base64::Engine;
use clap::{Args, Parser, Subcommand, ValueEnum};
use sigv4_case::{Case, SignatureLocation};
use sigv4_cli::client::{Client, HttpRequest};
use sigv4_cli::sign_case;
use sigv4_host::credentials::{self, xml_text};
use sigv4_host::{Explained, Location, SignerComponent};

#[derive(Parser)]
#[command(
    name = "sigv4",
    version,
    about = "Sign AWS requests with Signature Version 4"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign a request described by a case directory (context.json + request.txt, the layout of
    /// the AWS signing test suite).
    Sign {
        /// The case directory.
        #[arg(long, value_name = "DIR")]
        case: PathBuf,
        /// Where the signature goes: an Authorization header or a presigned URL.
        #[arg(long, value_enum, default_value = "header")]
        location: LocationArg,
        /// Print one JSON object: canonical_request, string_to_sign, signature, and
        /// authorization + headers (header) or url (query).
        #[arg(long, conflicts_with = "explain")]
        json: bool,
        /// Print the canonical request and string to sign for a human (to compare with a
        /// SignatureDoesNotMatch answer).
        #[arg(long)]
        explain: bool,
    },
    /// Show how a request is signed: canonical request, string to sign, headers.
    Explain(RequestArgs),
    /// Print a presigned URL.
    Presign {
        /// Lifetime in seconds (1..=604800).
        #[arg(long, default_value_t = 3600)]
        expires: u64,
        #[command(flatten)]
        request: RequestArgs,
    },
    /// Sign and send a request (like curl); print the status and the body.
    Send(RequestArgs),
    /// Who the credentials belong to (STS GetCallerIdentity).
    Whoami(StsArgs),
    /// A signed STS GetCallerIdentity request as JSON (Vault's AWS IAM login fields, base64), for
    /// a service to replay against STS as proof of these credentials.
    Proof {
        /// A value bound into the signature, naming who the proof is for.
        #[arg(long)]
        audience: Option<String>,
        /// The header carrying the audience.
        #[arg(long, default_value = "X-Vault-AWS-IAM-Server-ID")]
        audience_header: String,
        #[command(flatten)]
        sts: StsArgs,
    },
    /// Find credentials as the AWS CLI does (environment, profile files, credential_process,
    /// container endpoint, instance metadata) and show which provider answered, the access key id
    /// and the expiry. Never the secret.
    Credentials {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A request on the command line.
#[derive(Args)]
struct RequestArgs {
    /// The URL (path and query as sent on the wire).
    url: String,
    /// The method.
    #[arg(short = 'X', long, default_value = "GET")]
    method: String,
    /// A header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// The body: text, or `@file`.
    #[arg(short = 'd', long)]
    data: Option<String>,
    /// The service's signing name (inferred from AWS hostnames).
    #[arg(long)]
    service: Option<String>,
    /// The region (inferred from AWS hostnames, else AWS_REGION or the profile).
    #[arg(long)]
    region: Option<String>,
    /// Sign `UNSIGNED-PAYLOAD` instead of the body's hash (S3).
    #[arg(long)]
    unsigned_payload: bool,
}

/// Where STS is.
#[derive(Args)]
struct StsArgs {
    /// The STS endpoint (default https://sts.REGION.amazonaws.com, or https://sts.amazonaws.com).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// The region to sign for (default from the environment or profile, else us-east-1).
    #[arg(long)]
    region: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LocationArg {
    /// An Authorization header.
    Header,
    /// A presigned URL.
    Query,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Sign {
            case,
            location,
            json,
            explain,
        } => sign_case_command(&case, location, json, explain),
        Command::Credentials { json } => return show_credentials(json),
        Command::Explain(args) => {
            signed(&args, Location::Headers).map(|(_, out)| print!("{}", to_text(&out)))
        }
        Command::Presign { expires, request } => signed(&request, Location::Query(expires))
            .map(|(_, out)| println!("{}", out.signed.url.unwrap_or_default())),
        Command::Send(args) => send_command(&args),
        Command::Whoami(sts) => whoami(&sts),
        Command::Proof {
            audience,
            audience_header,
            sts,
        } => proof(&sts, audience.as_deref(), &audience_header),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sigv4: {message}");
            ExitCode::FAILURE
        }
    }
}

fn sign_case_command(
    case: &std::path::Path,
    location: LocationArg,
    json: bool,
    explain: bool,
) -> Result<(), String> {
    let location = match location {
        LocationArg::Header => SignatureLocation::Header,
        LocationArg::Query => SignatureLocation::Query,
    };
    let out = Case::load(case)
        .and_then(|c| sign_in_component(&c, location))
        .map_err(|message| format!("{}: {message}", case.display()))?;
    if json {
        println!("{}", to_json(&out));
    } else if explain {
        print!("{}", to_text(&out));
    } else {
        println!(
            "{}",
            out.signed.url.as_deref().unwrap_or(authorization(&out))
        );
    }
    Ok(())
}

fn http_request(args: &RequestArgs) -> Result<HttpRequest, String> {
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("header {h:?} is not `Name: value`"))
        })
        .collect::<Result<_, _>>()?;
    let body = match args.data.as_deref() {
        Some(file) if file.starts_with('@') => {
            std::fs::read(&file[1..]).map_err(|e| format!("{}: {e}", &file[1..]))?
        }
        Some(text) => text.as_bytes().to_vec(),
        None => Vec::new(),
    };
    Ok(HttpRequest {
        method: args.method.clone(),
        url: args.url.clone(),
        headers,
        body,
    })
}

fn signed(args: &RequestArgs, location: Location) -> Result<(HttpRequest, Explained), String> {
    let request = http_request(args)?;
    let client = Client::from_env();
    let out = client.sign(
        &request,
        args.service.as_deref(),
        args.region.as_deref(),
        location,
        args.unsigned_payload,
    )?;
    Ok((request, out))
}

fn send_command(args: &RequestArgs) -> Result<(), String> {
    let request = http_request(args)?;
    let response = Client::from_env().send(
        &request,
        args.service.as_deref(),
        args.region.as_deref(),
        args.unsigned_payload,
    )?;
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "HTTP {}", response.status);
    let _ = stdout.write_all(&response.body);
    let _ = writeln!(stdout);
    if response.status >= 400 {
        return Err(format!("the service answered {}", response.status));
    }
    Ok(())
}

/// STS GetCallerIdentity: the request `whoami` sends and `proof` serializes, and its region.
fn caller_identity(sts: &StsArgs, extra_headers: Vec<(String, String)>) -> (HttpRequest, String) {
    let env: HashMap<String, String> = std::env::vars().collect();
    let region = sts
        .region
        .clone()
        .or_else(|| credentials::resolve_region(&env))
        .unwrap_or_else(|| "us-east-1".into());
    let url = sts
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("https://sts.{region}.amazonaws.com/"));
    let mut headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    )];
    headers.extend(extra_headers);
    let request = HttpRequest {
        method: "POST".into(),
        url,
        headers,
        body: b"Action=GetCallerIdentity&Version=2011-06-15".to_vec(),
    };
    (request, region)
}

/// GetCallerIdentity signed and sent by the agent component.
fn whoami(sts: &StsArgs) -> Result<(), String> {
    let (request, region) = caller_identity(sts, Vec::new());
    let response = Client::from_env().send(&request, Some("sts"), Some(&region), false)?;
    let body = String::from_utf8_lossy(&response.body);
    if response.status != 200 {
        return Err(format!("STS answered {}: {body}", response.status));
    }
    for field in ["Arn", "UserId", "Account"] {
        let value = xml_text(&body, field).unwrap_or("?");
        println!("{field}: {value}");
    }
    Ok(())
}

fn proof(sts: &StsArgs, audience: Option<&str>, audience_header: &str) -> Result<(), String> {
    let extra = audience
        .map(|a| vec![(audience_header.to_string(), a.to_string())])
        .unwrap_or_default();
    let (request, region) = caller_identity(sts, extra);
    let out = Client::from_env().sign(
        &request,
        Some("sts"),
        Some(&region),
        Location::Headers,
        false,
    )?;
    let mut headers: serde_json::Map<String, serde_json::Value> = serde_json::Map::new();
    let own = request.headers.iter().map(|(n, v)| (n, v));
    for (name, value) in own.chain(out.signed.headers.iter().map(|h| (&h.name, &h.value))) {
        headers.insert(name.clone(), serde_json::json!([value]));
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let json = serde_json::json!({
        "iam_http_request_method": request.method,
        "iam_request_url": b64(request.url.as_bytes()),
        "iam_request_body": b64(&request.body),
        "iam_request_headers": b64(serde_json::Value::Object(headers).to_string().as_bytes()),
    });
    println!("{json}");
    Ok(())
}

fn show_credentials(json: bool) -> ExitCode {
    let env: HashMap<String, String> = std::env::vars().collect();
    let chain = credentials::default_chain(&env);
    let found = match chain.resolve() {
        Ok(found) => found,
        Err(error) => {
            eprintln!("sigv4: {error}");
            return ExitCode::FAILURE;
        }
    };
    let expiration = found.expiration.map(|t| {
        let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        sigv4_core::Timestamp::from_unix_seconds(secs).map_or_else(
            |_| "?".into(),
            |t| String::from_utf8_lossy(&t.rfc3339()).into_owned(),
        )
    });
    let region = credentials::resolve_region(&env);
    if json {
        let out = serde_json::json!({
            "provider": found.provider,
            "access_key_id": found.access_key_id,
            "session_token": found.session_token.is_some(),
            "expiration": expiration,
            "region": region,
        });
        println!("{out}");
    } else {
        println!("provider:      {}", found.provider);
        println!("access key id: {}", found.access_key_id);
        println!(
            "session token: {}",
            if found.session_token.is_some() {
                "yes"
            } else {
                "no"
            }
        );
        println!(
            "expires:       {}",
            expiration.as_deref().unwrap_or("never")
        );
        println!(
            "region:        {}",
            region.as_deref().unwrap_or("(none found)")
        );
    }
    ExitCode::SUCCESS
}

/// Signs inside the WebAssembly component (compiled and instantiated here, once).
fn sign_in_component(case: &Case, location: SignatureLocation) -> Result<Explained, String> {
    let component =
        SignerComponent::shared().map_err(|e| format!("loading the signer component: {e:#}"))?;
    sign_case(component, case, location).map_err(|e| e.to_string())
}

fn to_json(out: &Explained) -> serde_json::Value {
    let mut json = serde_json::json!({
        "canonical_request": out.canonical_request,
        "string_to_sign": out.string_to_sign,
        "signature": out.signed.signature,
    });
    if let Some(url) = &out.signed.url {
        json["url"] = url.as_str().into();
    } else {
        json["authorization"] = authorization(out).into();
        json["headers"] = out
            .signed
            .headers
            .iter()
            .map(|h| serde_json::json!([h.name, h.value]))
            .collect();
    }
    json
}

fn to_text(out: &Explained) -> String {
    let mut text = String::new();
    let mut section = |title: &str, body: &str| {
        text.push_str(&format!("--- {title} ---\n{body}\n\n"));
    };
    section("canonical request", &out.canonical_request);
    section("string to sign", &out.string_to_sign);
    section("signature", &out.signed.signature);
    match &out.signed.url {
        Some(url) => section("presigned url", url),
        None => {
            let headers: Vec<String> = out
                .signed
                .headers
                .iter()
                .map(|h| format!("{}: {}", h.name, h.value))
                .collect();
            section("headers to add", &headers.join("\n"));
        }
    }
    text.push_str(
        "If AWS answers SignatureDoesNotMatch, its error body holds the canonical request and\n\
         string to sign it computed: compare them line by line with the ones above.\n",
    );
    text
}

fn authorization(out: &Explained) -> &str {
    let header = out
        .signed
        .headers
        .iter()
        .find(|h| h.name == "authorization");
    header.map_or("", |h| h.value.as_str())
}

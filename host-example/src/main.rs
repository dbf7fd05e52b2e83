//! `sigv4`: sign AWS requests from the command line with the SigV4 core.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::UNIX_EPOCH;

use clap::{Parser, Subcommand, ValueEnum};
use sigv4_case::{Case, SignatureLocation};
use sigv4_cli::sign_case;
use sigv4_host::credentials;
use sigv4_host::{Explained, SignerComponent};

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
    /// Find credentials as the AWS CLI does (environment, profile files, credential_process,
    /// container endpoint, instance metadata) and show which provider answered, the access key id
    /// and the expiry. Never the secret.
    Credentials {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LocationArg {
    /// An Authorization header.
    Header,
    /// A presigned URL.
    Query,
}

fn main() -> ExitCode {
    let (case, location, json, explain) = match Cli::parse().command {
        Command::Sign {
            case,
            location,
            json,
            explain,
        } => (case, location, json, explain),
        Command::Credentials { json } => return show_credentials(json),
    };
    let location = match location {
        LocationArg::Header => SignatureLocation::Header,
        LocationArg::Query => SignatureLocation::Query,
    };
    let signed = Case::load(&case).and_then(|c| sign_in_component(&c, location));
    match signed {
        Ok(out) if json => println!("{}", to_json(&out)),
        Ok(out) if explain => print!("{}", to_text(&out)),
        Ok(out) => println!(
            "{}",
            out.signed.url.as_deref().unwrap_or(authorization(&out))
        ),
        Err(message) => {
            eprintln!("sigv4: {}: {message}", case.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
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
        SignerComponent::new().map_err(|e| format!("loading the signer component: {e:#}"))?;
    let mut signer = component
        .instantiate()
        .map_err(|e| format!("instantiating the signer component: {e:#}"))?;
    match sign_case(&mut signer, case, location) {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(error)) => Err(error.message),
        Err(trap) => Err(format!("the signer component failed: {trap:#}")),
    }
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

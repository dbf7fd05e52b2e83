//! `sigv4`: sign AWS requests from the command line with the SigV4 core.

mod chunked;
mod upload;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
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
    /// The profile of the shared config and credentials files that credentials and the region
    /// come from, as AWS_PROFILE sets it (any verb).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign a request given on the command line (URL, -X, -H, -d; credentials from the chain)
    /// and print JSON or a curl command; or sign a case directory (context.json + request.txt,
    /// the layout of the AWS signing test suite) with its own credentials and time.
    Sign(SignArgs),
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
    /// Sign and send a request (like curl): the body on stdout; exit 22 on a status >= 400.
    Send(SendArgs),
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
    /// Check a signed request's signature, as a service does: exit 0 when it verifies, 3 when
    /// it is refused (the reason on stderr, or in the JSON), 1 when the input cannot be read.
    Verify(VerifyArgs),
    /// Find credentials as the AWS CLI does (environment, profile files, credential_process,
    /// container endpoint, instance metadata) and show which provider answered, the access key id
    /// and the expiry. Never the secret.
    Credentials {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve one role's credentials to applications as the EC2 instance metadata service
    /// (IMDSv2) or the ECS/EKS container endpoint, until SIGTERM. Configured by a YAML file
    /// (see crates/credential-server/README.md) or flags, which override it.
    CredentialServer(Box<CredentialServerArgs>),
    /// Turn cloud-auth proofs (`sigv4 proof`, Datadog's Delegated header) and enrollment tokens
    /// into per-agent keys, with its state in SQLite or Postgres, until SIGTERM. Configured by a
    /// YAML file (see crates/exchange-server/README.md) or flags, which override it.
    ExchangeServer(Box<ExchangeServerArgs>),
    /// The exchange server's admin routes: enrollment tokens, agents, bindings. The admin token
    /// from --admin-token-file or SIGV4_EXCHANGE_ADMIN_TOKEN, the server from --server or
    /// SIGV4_EXCHANGE_URL.
    ExchangeAdmin(ExchangeAdminArgs),
}

/// `credential-server`: every field of the configuration file, as a flag.
#[derive(Args)]
struct ExchangeAdminArgs {
    /// The exchange server (http://127.0.0.1:8900).
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// A file holding the admin token.
    #[arg(long, value_name = "FILE")]
    admin_token_file: Option<PathBuf>,
    #[command(subcommand)]
    what: AdminWhat,
}

#[derive(Subcommand)]
enum AdminWhat {
    /// Enrollment tokens.
    #[command(subcommand)]
    Tokens(AdminTokens),
    /// Enrolled agents.
    #[command(subcommand)]
    Agents(AdminAgents),
    /// The configured bindings of ARN patterns to organizations.
    #[command(subcommand)]
    Bindings(AdminBindings),
}

#[derive(Subcommand)]
enum AdminTokens {
    /// Create a token (printed once, with its id).
    Create {
        /// A name for it.
        #[arg(long)]
        name: String,
        /// The organization its agents join.
        #[arg(long)]
        organization: String,
        /// How long it lasts (30m, 24h; default: until revoked).
        #[arg(long, value_name = "DURATION")]
        expires_in: Option<String>,
        /// How many enrollments it allows (default: unlimited).
        #[arg(long)]
        max_uses: Option<u32>,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id.
    Revoke {
        /// The token's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum AdminAgents {
    /// List the agents.
    List,
    /// Revoke an agent: its key stops working on every replica within 2 s.
    Revoke {
        /// The agent's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum AdminBindings {
    /// List the bindings.
    List,
}

#[derive(Args)]
struct ExchangeServerArgs {
    /// The YAML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// host:port to listen on.
    #[arg(long, value_name = "ADDRESS")]
    bind_address: Option<String>,
    /// Listen on an address other than loopback (put TLS in front).
    #[arg(long)]
    allow_remote: bool,
    /// sqlite://PATH or postgres://...
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// An STS endpoint proofs may be signed for (repeatable; default: every public one).
    #[arg(long = "sts-endpoint", value_name = "URL")]
    sts_endpoints: Vec<String>,
    /// The header that names this service in a proof.
    #[arg(long, value_name = "NAME")]
    audience_header: Option<String>,
    /// Its value.
    #[arg(long, value_name = "VALUE")]
    audience: Option<String>,
    /// ARN_PATTERN=ORGANIZATION (repeatable; the first match wins).
    #[arg(long = "binding", value_name = "ARN_PATTERN=ORGANIZATION")]
    bindings: Vec<String>,
    /// How long a login's API key lives (1h).
    #[arg(long, value_name = "DURATION")]
    key_ttl: Option<String>,
    /// How long the previous key stays valid after a rotation (5m).
    #[arg(long, value_name = "DURATION")]
    grace: Option<String>,
    /// The hex SHA-256 of the admin token (Authorization: Bearer <token> on /v1/admin/).
    #[arg(long, value_name = "HEX")]
    admin_token_sha256: Option<String>,
    /// A file of at least 32 random characters from which agents' SigV4 secrets are derived.
    #[arg(long, value_name = "FILE")]
    master_key_file: Option<String>,
    /// rps:burst per client address on login and enroll (5:20).
    #[arg(long, value_name = "RPS:BURST")]
    rate_limit: Option<String>,
    /// How long replaying a proof to STS may take (5s).
    #[arg(long, value_name = "DURATION")]
    sts_timeout: Option<String>,
    /// No JSON line per request on stderr (access_log: false).
    #[arg(long)]
    no_access_log: bool,
}

#[derive(Args)]
struct CredentialServerArgs {
    /// The YAML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// host:port to listen on (server.bind_address).
    #[arg(long, value_name = "ADDRESS")]
    bind_address: Option<String>,
    /// How long requests under way may take after SIGTERM (server.graceful_timeout: 5s).
    #[arg(long, value_name = "DURATION")]
    graceful_timeout: Option<String>,
    /// rps:burst (server.rate_limit).
    #[arg(long, value_name = "RPS:BURST")]
    rate_limit: Option<String>,
    /// Listen on an address other than loopback (server.allow_remote).
    #[arg(long)]
    allow_remote: bool,
    /// imds (default) or container.
    #[arg(long, value_enum)]
    mode: Option<ServerMode>,
    /// The role name IMDS lists (default: the role ARN's).
    #[arg(long, value_name = "NAME")]
    iam_role: Option<String>,
    /// Answer requests without an IMDSv2 session token.
    #[arg(long)]
    imds_v1_allowed: bool,
    /// The region IMDS reports.
    #[arg(long)]
    region: Option<String>,
    /// The availability zone IMDS reports.
    #[arg(long)]
    zone: Option<String>,
    /// Container mode: the Authorization value clients send (AWS_CONTAINER_AUTHORIZATION_TOKEN).
    #[arg(long, value_name = "TOKEN")]
    authorization_token: Option<String>,
    /// The role to serve, assumed with the host's credential chain (credentials.role_arn).
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    #[arg(long, value_name = "NAME")]
    role_session_name: Option<String>,
    #[arg(long)]
    external_id: Option<String>,
    /// How long assumed credentials live (900..=43200).
    #[arg(long, value_name = "SECONDS")]
    duration_seconds: Option<u32>,
    /// Assume the role with this OIDC token file (AssumeRoleWithWebIdentity).
    #[arg(long, value_name = "FILE")]
    web_identity_token_file: Option<String>,
    /// ... or with the token this command prints.
    #[arg(long, value_name = "COMMAND")]
    web_identity_token_command: Option<String>,
    /// ... or with the token a GET of this URL answers (JSON).
    #[arg(long, value_name = "URL")]
    web_identity_token_url: Option<String>,
    /// A header of that GET, `Name: value` (repeatable).
    #[arg(long, value_name = "HEADER")]
    web_identity_token_header: Vec<String>,
    /// The answer's field holding the token (default access_token).
    #[arg(long, value_name = "FIELD")]
    web_identity_token_field: Option<String>,
    /// ... or with an Entra ID token (credentials.azure_ad): the tenant.
    #[arg(long, value_name = "ID")]
    azure_tenant_id: Option<String>,
    #[arg(long, value_name = "ID")]
    azure_client_id: Option<String>,
    /// Visible to other users in the process list: prefer the configuration file.
    #[arg(long, value_name = "SECRET")]
    azure_client_secret: Option<String>,
    #[arg(long, value_name = "FILE")]
    azure_client_assertion_file: Option<String>,
    #[arg(long, value_name = "SCOPE")]
    azure_scope: Option<String>,
    /// Default: AZURE_AUTHORITY_HOST, else https://login.microsoftonline.com.
    #[arg(long, value_name = "URL")]
    azure_authority_host: Option<String>,
    /// ... or with a token of any OAuth2 endpoint's client-credentials flow (credentials.oauth2).
    #[arg(long, value_name = "URL")]
    oauth2_token_url: Option<String>,
    #[arg(long, value_name = "ID")]
    oauth2_client_id: Option<String>,
    /// Visible to other users in the process list: prefer the configuration file.
    #[arg(long, value_name = "SECRET")]
    oauth2_client_secret: Option<String>,
    #[arg(long, value_name = "FILE")]
    oauth2_client_assertion_file: Option<String>,
    #[arg(long, value_name = "SCOPE")]
    oauth2_scope: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum ServerMode {
    Imds,
    Container,
}

/// `verify`: the request, the secrets, and the time to check them at.
#[derive(Args)]
struct VerifyArgs {
    /// The signed request, as raw HTTP/1.1 text (request line, headers, blank line, body).
    #[arg(long, value_name = "FILE")]
    request: PathBuf,
    /// JSON `{"ACCESS_KEY_ID": "SECRET", ...}`.
    #[arg(long, value_name = "FILE")]
    credentials: PathBuf,
    /// The time to verify at, in Unix seconds (default: now).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// How far the request's time may be from --now, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    max_skew: u64,
    /// Print `{"valid": ..., "reason": ..., "access_key_id": ...}`.
    #[arg(long)]
    json: bool,
}

/// `sign`: a request on the command line, or a case directory.
#[derive(Args)]
struct SignArgs {
    /// The case directory (instead of a URL).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["url", "curl"])]
    case: Option<PathBuf>,
    /// The URL (path and query as sent on the wire).
    #[arg(required_unless_present = "case")]
    url: Option<String>,
    #[command(flatten)]
    request: RequestOptions,
    /// Where the signature goes: an Authorization header or a presigned URL.
    #[arg(long, value_enum, default_value = "header")]
    location: LocationArg,
    /// With --case: the signature algorithm; the case's region is SigV4a's region set
    /// (`us-east-1,us-west-2`, `*`). Default: SigV4a if context.json says `"sigv4a": true`,
    /// else SigV4.
    #[arg(long, value_enum, requires = "case", conflicts_with = "chunk_size")]
    algorithm: Option<AlgorithmArg>,
    /// The presigned URL's lifetime in seconds (1..=604800), with `--location query` and a URL.
    #[arg(long, default_value_t = 3600)]
    expires: u64,
    /// Print one JSON object: canonical_request, string_to_sign, signature, and
    /// authorization + headers (header) or url (query). The default with a URL.
    #[arg(long, conflicts_with_all = ["explain", "curl"])]
    json: bool,
    /// Print the canonical request and string to sign for a human (to compare with a
    /// SignatureDoesNotMatch answer).
    #[arg(long, conflicts_with = "curl")]
    explain: bool,
    /// Print a curl command (shell-quoted) that sends the signed request: its headers, the
    /// signed ones and the body.
    #[arg(long)]
    curl: bool,
    /// With --case: sign the case's request for an S3 aws-chunked upload of its body in chunks
    /// of N bytes (at least 8192; the last one shorter), by the native core, and print JSON:
    /// seed_signature, chunk_signatures, headers, content_length and body_b64. An x-amz-trailer
    /// header asks for that trailing checksum (x-amz-checksum-crc32, -crc32c, -sha1, -sha256).
    #[arg(long, value_name = "N", requires = "case", conflicts_with_all = ["explain", "location"])]
    chunk_size: Option<usize>,
}

/// `send`: the request, and what to print of the answer (as curl does).
#[derive(Args)]
struct SendArgs {
    #[command(flatten)]
    request: RequestArgs,
    /// Print the status line and the response headers before the body (curl -i).
    #[arg(short = 'i', long)]
    include: bool,
    /// Print the status line and the response headers on stderr.
    #[arg(short = 'v', long)]
    verbose: bool,
    /// Write what would go to stdout to FILE instead.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Upload FILE as the body (the method PUT unless -X says otherwise), as an S3 aws-chunked
    /// upload: signed chunk by chunk as it is read and streamed, so a file of any size goes up
    /// in bounded memory (STREAMING-AWS4-HMAC-SHA256-PAYLOAD; signed by the native core, sent
    /// through the environment's proxy if it names one).
    #[arg(short = 'T', long, value_name = "FILE", conflicts_with = "data")]
    upload_file: Option<PathBuf>,
    /// With --upload-file: the chunk size in bytes (at least 8192; default 65536).
    #[arg(long, value_name = "N", requires = "upload_file")]
    chunk_size: Option<usize>,
    /// With --upload-file: a trailing checksum of the file, crc32, crc32c, sha1 or sha256, sent
    /// in a signed trailer (x-amz-trailer, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER); with
    /// --unsigned-payload the chunks go unsigned (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
    #[arg(long, value_name = "ALGORITHM", requires = "upload_file")]
    checksum: Option<String>,
}

/// A request on the command line.
#[derive(Args)]
struct RequestArgs {
    /// The URL (path and query as sent on the wire).
    url: String,
    #[command(flatten)]
    options: RequestOptions,
}

/// A request's parts but its URL.
#[derive(Args)]
struct RequestOptions {
    /// The method (default GET).
    #[arg(short = 'X', long)]
    method: Option<String>,
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
enum AlgorithmArg {
    /// AWS4-HMAC-SHA256.
    Sigv4,
    /// AWS4-ECDSA-P256-SHA256 (multi-region).
    Sigv4a,
}

#[derive(Clone, Copy, ValueEnum)]
enum LocationArg {
    /// An Authorization header.
    Header,
    /// A presigned URL.
    Query,
}

/// The exit status of an HTTP answer >= 400, as `curl --fail` has it.
const HTTP_ERROR: u8 = 22;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = environment(cli.profile.as_deref());
    let result = match cli.command {
        Command::Sign(args) => sign_command(&args, env),
        Command::Credentials { json } => return show_credentials(json, &env),
        Command::Explain(args) => signed(&args.url, &args.options, env, Location::Headers)
            .map(|(_, out)| print!("{}", to_text(&out))),
        Command::Presign { expires, request } => signed(
            &request.url,
            &request.options,
            env,
            Location::Query(expires),
        )
        .map(|(_, out)| println!("{}", out.signed.url.unwrap_or_default())),
        Command::Send(args) => match send_command(&args, env) {
            Ok(code) => return code,
            Err(message) => Err(message),
        },
        Command::Verify(args) => return verify_command(&args),
        Command::CredentialServer(args) => credential_server(*args, &env),
        Command::ExchangeServer(args) => exchange_server(*args),
        Command::ExchangeAdmin(args) => exchange_admin(args, &env),
        Command::Whoami(sts) => whoami(&sts, env),
        Command::Proof {
            audience,
            audience_header,
            sts,
        } => proof(&sts, audience.as_deref(), &audience_header, env),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sigv4: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Starts the credential server: the file's configuration, overridden by the flags.
fn credential_server(
    args: CredentialServerArgs,
    env: &HashMap<String, String>,
) -> Result<(), String> {
    use sigv4_credential_server::config::{
        AzureAd, CredentialsSection, FileConfig, Mode, OAuth2, ServerSection, TokenUrl,
    };
    let file = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            FileConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let flags = FileConfig {
        server: ServerSection {
            bind_address: args.bind_address,
            graceful_timeout: args.graceful_timeout,
            rate_limit: args.rate_limit,
            allow_remote: args.allow_remote.then_some(true),
        },
        mode: args.mode.map(|m| match m {
            ServerMode::Imds => Mode::Imds,
            ServerMode::Container => Mode::Container,
        }),
        iam_role: args.iam_role,
        imds_v1_allowed: args.imds_v1_allowed.then_some(true),
        region: args.region,
        zone: args.zone,
        authorization_token: args.authorization_token.map(Into::into),
        credentials: CredentialsSection {
            role_arn: args.role_arn,
            role_session_name: args.role_session_name,
            external_id: args.external_id,
            duration_seconds: args.duration_seconds,
            web_identity_token_file: args.web_identity_token_file,
            web_identity_token_command: args.web_identity_token_command,
            web_identity_token_url: Some(TokenUrl {
                url: args.web_identity_token_url,
                headers: args
                    .web_identity_token_header
                    .iter()
                    .map(|h| {
                        let (name, value) = h.split_once(':').unwrap_or((h, ""));
                        (name.trim().to_string(), value.trim().to_string().into())
                    })
                    .collect(),
                field: args.web_identity_token_field,
            })
            .filter(|t| t.url.is_some() || t.field.is_some() || !t.headers.is_empty()),
            azure_ad: Some(AzureAd {
                tenant_id: args.azure_tenant_id,
                client_id: args.azure_client_id,
                client_secret: args.azure_client_secret.map(Into::into),
                client_assertion_file: args.azure_client_assertion_file,
                scope: args.azure_scope,
                authority_host: args.azure_authority_host,
            })
            .filter(|a| {
                a.tenant_id.is_some()
                    || a.client_id.is_some()
                    || a.client_secret.is_some()
                    || a.client_assertion_file.is_some()
                    || a.scope.is_some()
                    || a.authority_host.is_some()
            }),
            oauth2: Some(OAuth2 {
                token_url: args.oauth2_token_url,
                client_id: args.oauth2_client_id,
                client_secret: args.oauth2_client_secret.map(Into::into),
                client_assertion_file: args.oauth2_client_assertion_file,
                scope: args.oauth2_scope,
            })
            .filter(|o| {
                o.token_url.is_some()
                    || o.client_id.is_some()
                    || o.client_secret.is_some()
                    || o.client_assertion_file.is_some()
                    || o.scope.is_some()
            }),
        },
    };
    let config = file
        .merge(flags)
        .resolve(env)
        .map_err(|e| format!("credential-server configuration: {e}"))?;
    let provider = sigv4_credential_server::provider(&config.source, env);
    sigv4_credential_server::run(config, provider).map_err(|e| format!("credential-server: {e}"))
}

fn exchange_admin(args: ExchangeAdminArgs, env: &HashMap<String, String>) -> Result<(), String> {
    use sigv4_cli::exchange_admin::{Action, run};
    let server = args
        .server
        .or_else(|| env.get("SIGV4_EXCHANGE_URL").cloned())
        .ok_or("no server: --server URL or SIGV4_EXCHANGE_URL")?;
    let token = match &args.admin_token_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .trim()
            .to_string(),
        None => env
            .get("SIGV4_EXCHANGE_ADMIN_TOKEN")
            .cloned()
            .ok_or("no admin token: --admin-token-file FILE or SIGV4_EXCHANGE_ADMIN_TOKEN")?,
    };
    let action = match args.what {
        AdminWhat::Tokens(AdminTokens::Create {
            name,
            organization,
            expires_in,
            max_uses,
        }) => Action::CreateToken {
            name,
            organization,
            expires_in: expires_in
                .map(|text| {
                    sigv4_serve::parse_duration(&text)
                        .filter(|d| d.as_secs() > 0)
                        .ok_or(format!(
                            "--expires-in: {text:?} is not a duration (30m, 24h)"
                        ))
                })
                .transpose()?,
            max_uses,
        },
        AdminWhat::Tokens(AdminTokens::List) => Action::ListTokens,
        AdminWhat::Tokens(AdminTokens::Revoke { id }) => Action::RevokeToken(id),
        AdminWhat::Agents(AdminAgents::List) => Action::ListAgents,
        AdminWhat::Agents(AdminAgents::Revoke { id }) => Action::RevokeAgent(id),
        AdminWhat::Bindings(AdminBindings::List) => Action::ListBindings,
    };
    println!("{}", run(&server, &token, &action)?);
    Ok(())
}

fn exchange_server(args: ExchangeServerArgs) -> Result<(), String> {
    use sigv4_exchange_server::FileConfig;
    let file = match &args.config {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            FileConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let flags = FileConfig {
        bind_address: args.bind_address,
        allow_remote: args.allow_remote.then_some(true),
        database: args.database,
        sts_endpoints: args.sts_endpoints,
        audience_header: args.audience_header,
        audience: args.audience,
        bindings: args.bindings,
        key_ttl: args.key_ttl,
        grace: args.grace,
        admin_token_sha256: args.admin_token_sha256,
        master_key_file: args.master_key_file,
        rate_limit: args.rate_limit,
        sts_timeout: args.sts_timeout,
        access_log: args.no_access_log.then_some(false),
    };
    let config = file
        .merge(flags)
        .resolve()
        .map_err(|e| format!("exchange-server configuration: {e}"))?;
    sigv4_exchange_server::run(config).map_err(|e| format!("exchange-server: {e}"))
}

/// The process environment, with `AWS_PROFILE` set to `--profile` when given: the credential
/// chain and the region read the profile from there.
fn environment(profile: Option<&str>) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
    if let Some(profile) = profile {
        env.insert("AWS_PROFILE".into(), profile.into());
    }
    env
}

fn sign_command(args: &SignArgs, env: HashMap<String, String>) -> Result<(), String> {
    let Some(url) = &args.url else {
        if args.request.given() {
            return Err("--case signs the case's own request: -X, -H, -d, --service, --region and --unsigned-payload go with a URL".into());
        }
        let case = args.case.as_deref().unwrap_or(Path::new(""));
        if let Some(chunk_size) = args.chunk_size {
            let json = Case::load(case)
                .and_then(|c| chunked::sign_case_chunked(&c, chunk_size))
                .map_err(|message| format!("{}: {message}", case.display()))?;
            println!("{json}");
            return Ok(());
        }
        return sign_case_command(case, args);
    };
    let location = match args.location {
        LocationArg::Header => Location::Headers,
        LocationArg::Query => Location::Query(args.expires),
    };
    let (request, out) = signed(url, &args.request, env, location)?;
    if args.curl {
        println!(
            "{}",
            curl_command(&request, args.request.data.as_deref(), &out)
        );
    } else if args.explain {
        print!("{}", to_text(&out));
    } else {
        println!("{}", to_json(&out));
    }
    Ok(())
}

/// A curl command line that sends `request` as signed in `out`: the request's headers (but those
/// the signature replaces), the signed ones, and the body as `-d` gave it (`@file` or text), all
/// shell-quoted.
fn curl_command(request: &HttpRequest, data: Option<&str>, out: &Explained) -> String {
    // The URL in the form that was signed (a raw space encoded, no default port), unless a
    // Host header names another host than the URL's.
    let has_host = request
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"));
    let signed = &out.signed;
    let wire;
    let url = match (
        &signed.url,
        &signed.scheme,
        &signed.host,
        &signed.path_and_query,
    ) {
        (Some(url), ..) => url.as_str(),
        (None, Some(scheme), Some(host), Some(path)) if !has_host && !scheme.is_empty() => {
            wire = format!("{scheme}://{host}{path}");
            &wire
        }
        _ => &request.url,
    };
    let mut words = vec!["curl".to_string(), "-X".into(), request.method.clone()];
    // curl would otherwise expand `[]{}` globs and remove dot segments from the path.
    if url.contains(['[', ']', '{', '}']) {
        words.push("--globoff".into());
    }
    if url.contains("/.") {
        words.push("--path-as-is".into());
    }
    let signed = &out.signed.headers;
    let own = request
        .headers
        .iter()
        .filter(|(name, _)| !signed.iter().any(|h| h.name.eq_ignore_ascii_case(name)))
        .map(|(name, value)| (name, value));
    for (name, value) in own.chain(signed.iter().map(|h| (&h.name, &h.value))) {
        words.push("-H".into());
        // `Name:` with nothing after it makes curl drop the header; `Name;` sends it empty.
        words.push(if value.is_empty() {
            format!("{name};")
        } else {
            format!("{name}: {value}")
        });
    }
    if let Some(data) = data {
        words.push("--data-binary".into());
        words.push(data.into());
    }
    words.push(url.into());
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as one POSIX shell word: as is when every byte is safe, else in single quotes.
fn shell_quote(word: &str) -> String {
    let safe = |b: u8| b.is_ascii_alphanumeric() || b"-_./:@%+,".contains(&b);
    if !word.is_empty() && word.bytes().all(safe) {
        word.into()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

fn sign_case_command(case: &Path, args: &SignArgs) -> Result<(), String> {
    let location = match args.location {
        LocationArg::Header => SignatureLocation::Header,
        LocationArg::Query => SignatureLocation::Query,
    };
    let out = Case::load(case)
        .and_then(|mut c| {
            match args.algorithm {
                Some(AlgorithmArg::Sigv4a) => c.context.sigv4a = true,
                Some(AlgorithmArg::Sigv4) if c.context.sigv4a => {
                    return Err("--algorithm sigv4, but context.json says \"sigv4a\": true".into());
                }
                _ => {}
            }
            sign_in_component(&c, location)
        })
        .map_err(|message| format!("{}: {message}", case.display()))?;
    if args.json {
        println!("{}", to_json(&out));
    } else if args.explain {
        print!("{}", to_text(&out));
    } else {
        println!(
            "{}",
            out.signed.url.as_deref().unwrap_or(authorization(&out))
        );
    }
    Ok(())
}

impl RequestOptions {
    /// Whether any option was given.
    fn given(&self) -> bool {
        self.method.is_some()
            || !self.headers.is_empty()
            || self.data.is_some()
            || self.service.is_some()
            || self.region.is_some()
            || self.unsigned_payload
    }
}

fn http_request(url: &str, args: &RequestOptions) -> Result<HttpRequest, String> {
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
        method: args.method.clone().unwrap_or_else(|| "GET".into()),
        url: url.into(),
        headers,
        body,
    })
}

fn signed(
    url: &str,
    args: &RequestOptions,
    env: HashMap<String, String>,
    location: Location,
) -> Result<(HttpRequest, Explained), String> {
    let request = http_request(url, args)?;
    let client = Client::from_vars(env);
    let out = client.sign(
        &request,
        args.service.as_deref(),
        args.region.as_deref(),
        location,
        args.unsigned_payload,
    )?;
    Ok((request, out))
}

/// Sends the request; writes the body (after the status line and headers with `-i`) to stdout
/// or `-o FILE`, and nothing else, so `sigv4 send URL > file` keeps the body intact.
fn send_command(args: &SendArgs, env: HashMap<String, String>) -> Result<ExitCode, String> {
    let options = &args.request.options;
    let mut request = http_request(&args.request.url, options)?;
    let response = match &args.upload_file {
        Some(file) => {
            request.method = options.method.clone().unwrap_or_else(|| "PUT".into());
            let checksum = args
                .checksum
                .as_deref()
                .map(sigv4_core::ChecksumAlgorithm::from_name)
                .transpose()
                .map_err(|e| e.to_string())?;
            let upload = upload::FileUpload {
                method: &request.method,
                url: &request.url,
                headers: &request.headers,
                service: options.service.as_deref(),
                region: options.region.as_deref(),
                file,
                chunk_size: args.chunk_size.unwrap_or(64 * 1024),
                checksum,
                unsigned: options.unsigned_payload,
            };
            upload::upload_file(&upload, &env)?
        }
        None => Client::from_vars(env).send(
            &request,
            options.service.as_deref(),
            options.region.as_deref(),
            options.unsigned_payload,
        )?,
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if args.verbose {
        eprint!("{head}");
    }
    let mut out = Vec::with_capacity(head.len() + response.body.len());
    if args.include {
        out.extend_from_slice(head.as_bytes());
    }
    out.extend_from_slice(&response.body);
    match &args.output {
        Some(file) => std::fs::write(file, &out).map_err(|e| format!("{}: {e}", file.display()))?,
        None => {
            // A closed pipe (`| head`) is not an error worth a panic.
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&out);
            let _ = stdout.flush();
        }
    }
    if response.status >= 400 {
        eprintln!(
            "sigv4: {} {}: the service answered {} {}",
            request.method,
            request.url,
            response.status,
            reason(response.status)
        );
        return Ok(ExitCode::from(HTTP_ERROR));
    }
    Ok(ExitCode::SUCCESS)
}

/// The reason phrase of a status (wasi:http gives only the code), empty when not a common one.
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        412 => "Precondition Failed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// STS GetCallerIdentity: the request `whoami` sends and `proof` serializes, and its region.
fn caller_identity(
    sts: &StsArgs,
    extra_headers: Vec<(String, String)>,
    env: &HashMap<String, String>,
) -> (HttpRequest, String) {
    let region = sts
        .region
        .clone()
        .or_else(|| credentials::resolve_region(env))
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
fn whoami(sts: &StsArgs, env: HashMap<String, String>) -> Result<(), String> {
    let (request, region) = caller_identity(sts, Vec::new(), &env);
    let response = Client::from_vars(env).send(&request, Some("sts"), Some(&region), false)?;
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

fn proof(
    sts: &StsArgs,
    audience: Option<&str>,
    audience_header: &str,
    env: HashMap<String, String>,
) -> Result<(), String> {
    let extra = audience
        .map(|a| vec![(audience_header.to_string(), a.to_string())])
        .unwrap_or_default();
    let (request, region) = caller_identity(sts, extra, &env);
    let out = Client::from_vars(env).sign(
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

/// Exit 0 when the request verifies, 3 when it is refused, 1 when the input cannot be read.
fn verify_command(args: &VerifyArgs) -> ExitCode {
    let read = |path: &PathBuf| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let now = args.now.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    });
    let verdict = read(&args.request).and_then(|request| {
        let credentials = read(&args.credentials)?;
        sigv4_cli::verify::verify(&request, &credentials, now, args.max_skew)
    });
    match verdict {
        Err(message) => {
            eprintln!("sigv4: {message}");
            ExitCode::FAILURE
        }
        Ok(verdict) => {
            if args.json {
                println!("{}", verdict.to_json());
            }
            match &verdict.rejection {
                None => {
                    if !args.json {
                        println!("valid: {}", verdict.access_key_id.unwrap_or_default());
                    }
                    ExitCode::SUCCESS
                }
                Some(rejection) => {
                    if !args.json {
                        eprintln!("sigv4: refused: {rejection}");
                    }
                    ExitCode::from(3)
                }
            }
        }
    }
}

fn show_credentials(json: bool, env: &HashMap<String, String>) -> ExitCode {
    let chain = credentials::default_chain(env);
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
    let region = credentials::resolve_region(env);
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

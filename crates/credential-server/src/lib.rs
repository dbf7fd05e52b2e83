//! `sigv4 credential-server`: serves one role's credentials to unmodified applications (boto3,
//! the AWS CLI, any AWS SDK) as the EC2 instance metadata service (IMDSv2) or the ECS/EKS
//! container endpoint, as Attaché does, from the host's credential chain, `AssumeRole` or web
//! identity. The STS calls are signed by the signer component, as every host's are.
//!
//! Requests never wait on the upstream while valid credentials exist: one refresher task fetches
//! ahead of expiry ([`upstream`]), requests read its latest answer ([`routes`]).

pub mod config;
pub mod metrics;
pub mod routes;
pub mod tokens;
pub mod upstream;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use sigv4_host::credentials::{
    AssumeRoleProvider, Provider, StsEndpoint, WebIdentityProvider, default_chain,
    resolve_region_without_imds,
};
use sigv4_serve::log;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use config::{Config, ConfigError, FileConfig, Mode, Source};

use metrics::Metrics;
use routes::{Bucket, State};
use tokens::TokenStore;
use upstream::Snapshot;

/// The most IMDSv2 session tokens kept at once (each 32 bytes of hash and an expiry).
const MAX_TOKENS: usize = 65_536;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The most connections served at once: more wait in the kernel's backlog, so that a client
/// holding connections open cannot run the process out of descriptors.
const MAX_CONNECTIONS: usize = 4096;

/// The most a request's head may take (hyper's default is about 400 KB): SDKs send well under
/// 2 KB.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The most of a user agent a log line keeps.
const MAX_LOGGED_USER_AGENT: usize = 256;

/// The provider of the configured source, on the host's chain and STS endpoint (`env`: the
/// process environment, as the AWS CLI reads it).
pub fn provider(source: &Source, env: &HashMap<String, String>) -> Arc<dyn Provider> {
    let sts = || StsEndpoint::from_env(env, resolve_region_without_imds(env));
    match source {
        Source::Chain => Arc::new(default_chain(env)),
        Source::AssumeRole {
            role_arn,
            session_name,
            external_id,
            duration_seconds,
        } => Arc::new(
            AssumeRoleProvider::new(
                Box::new(default_chain(env)),
                role_arn.clone(),
                session_name.clone(),
                external_id.clone(),
                sts(),
            )
            .with_duration_seconds(*duration_seconds),
        ),
        Source::WebIdentity {
            role_arn,
            token,
            session_name,
        } => Arc::new(WebIdentityProvider::with_token_source(
            token.clone(),
            role_arn.clone(),
            session_name.clone(),
            sts(),
        )),
    }
}

/// A bound server, its refresher started.
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

impl Server {
    /// Binds the configured address and starts fetching credentials from `provider` (on the
    /// current Tokio runtime).
    pub async fn bind(config: Config, provider: Arc<dyn Provider>) -> std::io::Result<Server> {
        let listener = TcpListener::bind(config.bind_address).await?;
        let (sender, receiver) = watch::channel(Snapshot::default());
        let metrics = Arc::new(Metrics::default());
        let demand = Arc::new(tokio::sync::Notify::new());
        tokio::spawn(upstream::refresh(
            provider,
            config.source.role_arn().map(String::from),
            sender,
            metrics.clone(),
            demand.clone(),
        ));
        let limiter = config
            .rate_limit
            .map(|limit| Mutex::new(Bucket::new(limit, Instant::now())));
        let state = Arc::new(State {
            config,
            upstream: receiver,
            tokens: Mutex::new(TokenStore::new(MAX_TOKENS)),
            limiter,
            metrics,
            demand,
        });
        Ok(Server { listener, state })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets requests under way finish within the
    /// configured graceful timeout.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) {
        let graceful = GracefulShutdown::new();
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let slot = tokio::select! {
                slot = slots.clone().acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => break,
                },
                () = &mut shutdown => break,
            };
            let (stream, remote) = tokio::select! {
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    // Out of descriptors, say: wait a little rather than spin on the error.
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let _ = stream.set_nodelay(true);
            let state = self.state.clone();
            let service = service_fn(move |request| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, remote, request).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .serve_connection(TokioIo::new(stream), service);
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                let _ = connection.await;
                drop(slot);
            });
        }
        drop(self.listener);
        let _ = tokio::time::timeout(self.state.config.graceful_timeout, graceful.shutdown()).await;
    }
}

/// Answers one request, counts it and logs it (one JSON line; no secret, no token).
async fn handle(
    state: &State,
    remote: SocketAddr,
    request: hyper::Request<Incoming>,
) -> routes::Answer {
    let started = Instant::now();
    let (parts, _body) = request.into_parts();
    let path = parts.uri.path();
    let (route, answer) = routes::answer(state, &parts.method, path, &parts.headers).await;
    let status = answer.status().as_u16();
    state.metrics.count(route, status);
    let user_agent = parts
        .headers
        .get(hyper::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let user_agent = user_agent
        .get(..MAX_LOGGED_USER_AGENT)
        .unwrap_or(user_agent);
    log(serde_json::json!({
            "time": sigv4_serve::rfc3339(sigv4_serve::unix_seconds(std::time::SystemTime::now())),
            "remote": remote.to_string(),
            "method": parts.method.as_str(),
            "path": path,
            "status": status,
            "micros": started.elapsed().as_micros() as u64,
            "user_agent": user_agent,
    }));
    answer
}

/// Runs the server on a new runtime until SIGTERM or Ctrl-C (the CLI verb).
pub fn run(config: Config, provider: Arc<dyn Provider>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let server = Server::bind(config, provider).await?;
        log(serde_json::json!({"event": "listening", "address": server.local_addr()?.to_string()}));
        server.serve(sigv4_serve::terminated()).await;
        log(serde_json::json!({"event": "stopped"}));
        Ok::<_, std::io::Error>(())
    })?;
    // A fetch under way on a blocking thread is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(())
}

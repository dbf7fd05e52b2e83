//! The exchange service: cloud-auth proofs (a signed STS `GetCallerIdentity`, in Vault's or
//! Datadog's shape) and enrollment tokens in, per-agent keys out. Stateless: its state is in a
//! database (SQLite by default, Postgres for replicas), which holds only hashes of what it issues.

pub mod auth;
pub mod bindings;
pub mod config;
pub mod keys;
pub mod proof;
pub mod server;
pub mod store;
pub mod sts;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use sigv4_serve::log;
use tokio::net::TcpListener;

pub use config::{Config, ConfigError, FileConfig};

/// A bound server, its database open and migrated.
pub struct Server {
    listener: TcpListener,
    app: Arc<server::App>,
}

impl Server {
    /// Opens the database (creating or migrating its schema) and binds the configured address.
    pub async fn bind(config: Config) -> Result<Server, String> {
        let store = store::Store::connect(&config.database)
            .await
            .map_err(|e| e.to_string())?;
        let listener = TcpListener::bind(config.bind_address)
            .await
            .map_err(|e| format!("{}: {e}", config.bind_address))?;
        Ok(Server {
            listener,
            app: Arc::new(server::App::new(config, store)),
        })
    }

    /// The address listened on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then lets requests under way finish.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.app.clone();
        let routes = server::router(self.app).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, routes)
            .with_graceful_shutdown(shutdown)
            .await?;
        app.store.close().await;
        Ok(())
    }
}

/// Runs the server on a new runtime until SIGTERM or Ctrl-C (the CLI verb).
pub fn run(config: Config) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let server = Server::bind(config).await?;
        let address = server.local_addr().map_err(|e| e.to_string())?;
        log(serde_json::json!({"event": "listening", "address": address.to_string()}));
        server
            .serve(sigv4_serve::terminated())
            .await
            .map_err(|e| e.to_string())?;
        log(serde_json::json!({"event": "stopped"}));
        Ok::<_, String>(())
    })?;
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    Ok(())
}

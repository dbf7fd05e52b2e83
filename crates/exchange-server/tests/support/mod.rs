//! Databases for the store's tests: a SQLite file or a Postgres database per test case, each
//! removed when its backend is dropped (also when a test fails).

pub mod postgres;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sigv4_exchange_server::store::Store;

/// A fresh database for one test case; [`Db::open`] connects a store to it (again and again:
/// two stores on one database are two replicas, or one before and after a restart).
#[derive(Debug, Clone)]
pub struct Db {
    url: String,
}

impl Db {
    pub async fn open(&self) -> Store {
        match Store::connect(&self.url).await {
            Ok(store) => store,
            Err(e) => panic!("opening {}: {e}", self.url),
        }
    }
}

/// Where the test cases' databases live.
pub enum Backend {
    Sqlite(TempDir),
    Postgres(postgres::Postgres),
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend::Sqlite(TempDir::new("sqlite"))
    }

    pub async fn postgres() -> Backend {
        Backend::Postgres(postgres::Postgres::start().await)
    }

    /// A new, empty database named after the case.
    pub async fn database(&self, case: &str) -> Db {
        let url = match self {
            Backend::Sqlite(dir) => format!("sqlite://{}", dir.path.join(case).display()),
            Backend::Postgres(server) => server.create_database(case).await,
        };
        Db { url }
    }
}

/// A directory removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(what: &str) -> TempDir {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("exchange-store-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

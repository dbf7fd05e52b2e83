//! A throwaway Postgres server: `initdb` into a temporary directory, `postgres` on a free port,
//! stopped and removed on drop (also when a test fails). Both refuse to run as root, so as root
//! (how the tests run) they run as the `postgres` user, in a directory it owns.
//!
//! Postgres missing is a failure, not a skip: `make test` installs it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::{Connection as _, Executor as _, PgConnection};
use tokio::sync::Mutex;

use super::TempDir;

const USER: &str = "sigv4";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Postgres {
    port: u16,
    child: Child,
    data: PathBuf,
    /// A connection to the `postgres` database, to create each case's database (one at a time).
    admin: Mutex<PgConnection>,
    /// Dropped last: the data directory and the log.
    _dir: TempDir,
}

impl Postgres {
    pub async fn start() -> Postgres {
        let bin = bin_dir();
        let dir = TempDir::new("postgres");
        let data = dir.path.join("data");
        let as_postgres = running_as_root();
        if as_postgres {
            let (uid, gid) = (id("-u"), id("-g"));
            std::os::unix::fs::chown(&dir.path, Some(uid), Some(gid)).unwrap();
        }
        let initdb = command(as_postgres, &bin.join("initdb"))
            .args(["-D".as_ref(), data.as_os_str()])
            .args(["-A", "trust", "-U", USER, "--no-sync"])
            .output()
            .unwrap();
        assert!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );

        let port = free_port();
        let log = dir.path.join("postgres.log");
        let child = command(as_postgres, &bin.join("postgres"))
            .args(["-D".as_ref(), data.as_os_str()])
            .args(["-k".as_ref(), dir.path.as_os_str()])
            .args(["-p", &port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=300",
            ])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut server = Server {
            child: Some(child),
            data: data.clone(),
        };

        let admin_url = format!("postgres://{USER}@127.0.0.1:{port}/postgres");
        let started = Instant::now();
        let admin = loop {
            match PgConnection::connect(&admin_url).await {
                Ok(connection) => break connection,
                Err(e) => {
                    let exited = server
                        .child
                        .as_mut()
                        .and_then(|c| c.try_wait().ok().flatten());
                    if exited.is_some() || started.elapsed() > START_TIMEOUT {
                        let log = std::fs::read_to_string(&log).unwrap_or_default();
                        panic!("postgres did not start ({e}); its log:\n{log}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let child = server.child.take().unwrap();
        Postgres {
            port,
            child,
            data,
            admin: Mutex::new(admin),
            _dir: dir,
        }
    }

    /// Creates an empty database; answers its URL.
    pub async fn create_database(&self, name: &str) -> String {
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        );
        let mut admin = self.admin.lock().await;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        stop(&self.data, &mut self.child);
    }
}

/// Stops a server that did not start (its `Postgres` never existed to stop it).
struct Server {
    child: Option<Child>,
    data: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            stop(&self.data, child);
        }
    }
}

/// SIGINT to the postmaster ("fast" shutdown: it disconnects clients, where SIGTERM's "smart"
/// one would wait for every pool a failed test left open), then SIGKILL if it lingers.
fn stop(data: &Path, child: &mut Child) {
    let pid = std::fs::read_to_string(data.join("postmaster.pid"))
        .ok()
        .and_then(|text| text.lines().next().map(str::to_owned));
    if let Some(pid) = &pid {
        let _ = Command::new("kill").args(["-INT", pid]).status();
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    if let Some(pid) = &pid {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The newest `/usr/lib/postgresql/<version>/bin` holding `postgres`.
fn bin_dir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL is not installed (no {}/<version>/bin/postgres): \
             `apt-get install postgresql` (as `make test` does)",
            root.display()
        ),
    }
}

fn running_as_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The `postgres` user's uid (`-u`) or gid (`-g`).
fn id(which: &str) -> u32 {
    let out = Command::new("id")
        .args([which, "postgres"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    match text.trim().parse() {
        Ok(id) => id,
        Err(_) => panic!("no `postgres` user (`id {which} postgres`: {text:?})"),
    }
}

/// `program`, as the `postgres` user if `as_postgres`.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

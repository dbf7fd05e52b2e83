//! Replicas of the exchange server on one database (issue 20, sections 3 and 4): servers in
//! process on free loopback ports, a fake STS that answers every replay with one identity, and
//! the HTTP API driven with ureq as agents and an administrator drive it.
//!
//! - `postgres_two_replicas`: two replicas A and B on one Postgres database: an agent enrolled
//!   through one is authenticated by the other (bearer and SigV4 keys); a revoke through A is
//!   honoured by B within 2 s; a proof used on A is refused by B; A stopped under load leaves B
//!   serving with no failed request; a restart of everything keeps every agent and key.
//! - `sqlite_one_replica`: the same cases (but the load) on SQLite, with A and B one replica.
//!
//! Everything started here is stopped on drop, also when a case fails; nothing but 127.0.0.1 is
//! contacted.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sigv4_core::{
    Credentials, Location, Payload, Request, Settings, Signer, SigningParams, Timestamp,
};
use sigv4_exchange_server::{FileConfig, Server, keys};
use support::TempDir;
use support::postgres::Postgres;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

const ADMIN_TOKEN: &str = "admin-token-for-the-replica-tests";
const AUDIENCE_HEADER: &str = "X-Intake-Id";
const AUDIENCE: &str = "intake.replicas.test";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
const STS_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
/// What the fake STS answers, and the role the server binds it by.
const SESSION_ARN: &str = "arn:aws:sts::123456789012:assumed-role/agents-x/session";
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/agents-x";
/// Every HTTP call of the cases gives up after this.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a replica may take to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

#[test]
fn postgres_two_replicas() {
    let runtime = runtime();
    let postgres = runtime.block_on(Postgres::start());
    let database = runtime.block_on(postgres.create_database("replicas"));
    let mut fleet = Fleet::new(runtime, database, Some(postgres));
    fleet.start(2);
    let mut issued = enrolled_anywhere_authenticated_everywhere(&fleet);
    revoked_anywhere_refused_everywhere_within_2s(&fleet, &mut issued);
    proof_used_once_refused_everywhere(&fleet, &mut issued);
    a_replica_stopped_under_load(&mut fleet, &issued);
    restart_keeps_everything(&mut fleet, &issued, 2);
}

#[test]
fn sqlite_one_replica() {
    let runtime = runtime();
    let dir = TempDir::new("replicas-sqlite");
    let database = format!("sqlite://{}", dir.path.join("exchange.db").display());
    let mut fleet = Fleet::new(runtime, database, None);
    fleet.keep(dir);
    fleet.start(1);
    let mut issued = enrolled_anywhere_authenticated_everywhere(&fleet);
    revoked_anywhere_refused_everywhere_within_2s(&fleet, &mut issued);
    proof_used_once_refused_everywhere(&fleet, &mut issued);
    restart_keeps_everything(&mut fleet, &issued, 1);
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

// The cases. A is the first replica, B the last (the same one on SQLite).

/// What the cases issued, for the later ones to use again.
#[derive(Default)]
struct Issued {
    enrollment_token: String,
    enrollment_token_id: String,
    bearer_key: String,
    sigv4: (String, String),
    revoked_key: String,
    revoked_replace_token: String,
    login_key: String,
    login_expires_at: String,
    used_proof: String,
    /// How many logins reached STS (each successful one, no refused one).
    logins: usize,
}

/// Case 1: an administrator creates an enrollment token on A, an agent enrolls with it on A and
/// is authenticated by B; a SigV4 agent enrolls on B and its signed `whoami` is accepted by A.
fn enrolled_anywhere_authenticated_everywhere(fleet: &Fleet) -> Issued {
    let (a, b) = (fleet.a(), fleet.b());
    let (status, token) = call(
        "POST",
        &a.url("/v1/admin/enrollment-tokens"),
        &admin(),
        Some(r#"{"name": "fleet", "organization": "acme", "max_uses": 10}"#),
    );
    assert_eq!(status, 201, "{token}");
    let token_text = text(&token, "token");
    let token_id = text(&token, "id");
    assert!(
        token_text.starts_with("et_") && token_text.len() == 46,
        "{token}"
    );
    assert!(token_id.len() == 32 && token_id.bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(
        without(&token, &["token", "id", "created_at"]),
        json!({"name": "fleet", "organization": "acme", "expires_at": null, "max_uses": 10,
               "uses": 0, "revoked_at": null})
    );

    // Bearer, enrolled on A.
    let bearer = enroll(a, &token_text, "agent-bearer", "bearer");
    let bearer_key = text(&bearer, "api_key");
    assert!(bearer_key.starts_with("sk_") && bearer_key.len() == 46);
    for replica in [b, a] {
        let (status, who) = call(
            "GET",
            &replica.url("/v1/whoami"),
            &api_key(&bearer_key),
            None,
        );
        assert_eq!(status, 200, "{who}");
        assert_eq!(who, agent_whoami("agent-bearer", "bearer"));
    }

    // SigV4, enrolled on B, signing for A (and for B).
    let sigv4 = enroll(b, &token_text, "agent-sigv4", "sigv4");
    let (id, secret) = (
        text(&sigv4, "access_key_id"),
        text(&sigv4, "secret_access_key"),
    );
    assert!(id.starts_with("AKEX") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);
    for replica in [a, b] {
        let url = replica.url("/v1/whoami");
        let (status, who) = call("GET", &url, &signed_whoami(&url, &id, &secret), None);
        assert_eq!(status, 200, "{who}");
        assert_eq!(who, agent_whoami("agent-sigv4", "sigv4"));
    }
    // A signature under another secret is refused (the verifier checks, not just the lookup).
    let url = a.url("/v1/whoami");
    let wrong = "A".repeat(40);
    let (status, refusal) = call("GET", &url, &signed_whoami(&url, &id, &wrong), None);
    assert_eq!(status, 401, "{refusal}");
    assert_eq!(refusal["field"], "authorization");

    // An unknown key on B: 401.
    let unknown = "sk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let (status, refusal) = call("GET", &b.url("/v1/whoami"), &api_key(unknown), None);
    assert_eq!(status, 401);
    assert_eq!(refusal["error"], "invalid_key");
    assert_eq!(refusal["field"], "authorization");

    // The other replica sees both agents and the two uses of the token.
    let (status, agents) = call("GET", &b.url("/v1/admin/agents"), &admin(), None);
    assert_eq!(status, 200, "{agents}");
    let mut listed: Vec<(String, String, String)> = agents["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|agent| {
            assert_eq!(agent["organization"], "acme");
            assert_eq!(agent["revoked_at"], Value::Null);
            assert_eq!(agent["enrolled_with"], token_id.as_str());
            (
                text(agent, "agent_id"),
                text(agent, "key_type"),
                agent["metadata"]["enrolled_on"].to_string(),
            )
        })
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            (
                "agent-bearer".into(),
                "bearer".into(),
                format!("\"{}\"", a.addr)
            ),
            (
                "agent-sigv4".into(),
                "sigv4".into(),
                format!("\"{}\"", b.addr)
            ),
        ]
    );
    assert_eq!(token_uses(a, &token_id), 2);

    Issued {
        enrollment_token: token_text,
        enrollment_token_id: token_id,
        bearer_key,
        sigv4: (id, secret),
        ..Issued::default()
    }
}

/// Case 2: B authenticates an agent (and caches it); the agent is revoked through A; B refuses
/// its key within 2 s of the revoke being sent.
fn revoked_anywhere_refused_everywhere_within_2s(fleet: &Fleet, issued: &mut Issued) {
    let (a, b) = (fleet.a(), fleet.b());
    let enrolled = enroll(a, &issued.enrollment_token, "agent-revoked", "bearer");
    let key = text(&enrolled, "api_key");
    let whoami = b.url("/v1/whoami");
    let (status, who) = call("GET", &whoami, &api_key(&key), None);
    assert_eq!(status, 200, "{who}");
    assert_eq!(who, agent_whoami("agent-revoked", "bearer"));

    let started = Instant::now();
    let (status, revoked) = call(
        "DELETE",
        &a.url("/v1/admin/agents/agent-revoked"),
        &admin(),
        None,
    );
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(
        revoked,
        json!({"agent_id": "agent-revoked", "revoked": true})
    );
    let mut polls = 0;
    let refusal = loop {
        polls += 1;
        let (status, answer) = call("GET", &whoami, &api_key(&key), None);
        match status {
            401 => break answer,
            200 => assert_eq!(answer, agent_whoami("agent-revoked", "bearer")),
            other => panic!("whoami on B after the revoke: {other} {answer}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "B still accepts the revoked key after {:?} ({polls} polls)",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let took = started.elapsed();
    println!(
        "{}: revoke honoured by B after {took:?} ({polls} polls)",
        fleet.name()
    );
    assert!(
        took < Duration::from_secs(2),
        "the revoke took {took:?} to reach B"
    );
    assert_eq!(refusal["error"], "invalid_key", "{refusal}");
    assert_eq!(refusal["field"], "authorization");
    // A refuses it too, the other agents still work, and a second revoke finds no agent.
    let (status, refusal) = call("GET", &a.url("/v1/whoami"), &api_key(&key), None);
    assert_eq!((status, &refusal["error"]), (401, &json!("invalid_key")));
    let (status, _) = call("GET", &whoami, &api_key(&issued.bearer_key), None);
    assert_eq!(status, 200);
    let (status, refusal) = call(
        "DELETE",
        &b.url("/v1/admin/agents/agent-revoked"),
        &admin(),
        None,
    );
    assert_eq!(status, 404, "{refusal}");
    assert_eq!(refusal["error"], "unknown_agent");
    // Its replace token cannot bring it back; the refused enrollment still counts a use of the
    // token (as `Store::use_enrollment_token` documents: the use comes first).
    let replace = text(&enrolled, "replace_token");
    assert_eq!(token_uses(a, &issued.enrollment_token_id), 3);
    let body = json!({"agent_id": "agent-revoked", "replace_token": replace}).to_string();
    let (status, refusal) = call(
        "POST",
        &b.url("/v1/enroll"),
        &api_key(&issued.enrollment_token),
        Some(&body),
    );
    assert_eq!(status, 403, "{refusal}");
    assert_eq!(refusal["error"], "agent_revoked");
    assert_eq!(refusal["field"], "replace_token");
    assert_eq!(token_uses(a, &issued.enrollment_token_id), 4);
    issued.revoked_key = key;
    issued.revoked_replace_token = replace;
}

/// Case 3: a proof logs in on A; the same proof sent to B is refused as `replayed`, before B
/// replays it to STS; the login's key works on B.
fn proof_used_once_refused_everywhere(fleet: &Fleet, issued: &mut Issued) {
    let (a, b) = (fleet.a(), fleet.b());
    let proof = fleet.proof();
    let sts_before = fleet.sts.requests();
    let (status, login) = call("POST", &a.url("/v1/login/aws"), &[], Some(&proof));
    assert_eq!(status, 200, "{login}");
    issued.logins += 1;
    let key = text(&login, "api_key");
    let expires_at = text(&login, "expires_at");
    assert!(key.starts_with("sk_") && key.len() == 46);
    assert_eq!(
        without(&login, &["api_key", "expires_at"]),
        json!({"arn": ROLE_ARN, "organization": "acme"})
    );
    assert_eq!(fleet.sts.requests(), sts_before + 1);
    let (status, refusal) = call("POST", &b.url("/v1/login/aws"), &[], Some(&proof));
    assert_eq!(status, 401, "{refusal}");
    assert_eq!(refusal["error"], "replayed");
    assert_eq!(fleet.sts.requests(), sts_before + 1, "a replay reached STS");
    let (status, who) = call("GET", &b.url("/v1/whoami"), &api_key(&key), None);
    assert_eq!(status, 200, "{who}");
    assert_eq!(
        who,
        json!({"arn": ROLE_ARN, "organization": "acme", "expires_at": expires_at,
               "key_type": "bearer"})
    );
    issued.login_key = key;
    issued.login_expires_at = expires_at;
    issued.used_proof = proof;
}

/// Case 4: 8 clients call `whoami` through a load balancer that sends everything to A until A
/// fails to connect, then to B; a request that got a connection error from A is sent once
/// more, the same, to B. A is stopped after about a second of load; no request may fail.
fn a_replica_stopped_under_load(fleet: &mut Fleet, issued: &Issued) {
    const CLIENTS: usize = 8;
    const RUN: Duration = Duration::from_secs(3);
    const STOP_AFTER: Duration = Duration::from_secs(1);
    const MOST_PER_CLIENT: usize = 200_000;
    let (a, b) = (fleet.a().addr, fleet.b().addr);
    let a_down = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(LoadCounts::default());
    let started = Instant::now();
    let clients: Vec<JoinHandle<()>> = (0..CLIENTS)
        .map(|n| {
            let (a_down, counts) = (a_down.clone(), counts.clone());
            // Half the clients are bearer agents, half SigV4 ones.
            let credential = if n % 2 == 0 {
                Credential::Bearer(issued.bearer_key.clone())
            } else {
                Credential::SigV4(issued.sigv4.clone())
            };
            std::thread::spawn(move || {
                let agent = agent(Duration::from_secs(2));
                for _ in 0..MOST_PER_CLIENT {
                    if started.elapsed() >= RUN {
                        break;
                    }
                    load_request(&agent, &credential, a, b, &a_down, &counts);
                }
            })
        })
        .collect();
    std::thread::sleep(STOP_AFTER);
    let stopping = Instant::now();
    fleet.stop(0);
    let stop_took = stopping.elapsed();
    let mut panicked = 0;
    for client in clients {
        if client.join().is_err() {
            panicked += 1;
        }
    }
    let total = started.elapsed();
    let c = &counts;
    let (sent, on_a, retried, on_b, failed) = (
        c.sent.load(Ordering::Relaxed),
        c.answered_by_a.load(Ordering::Relaxed),
        c.retried_on_b.load(Ordering::Relaxed),
        c.answered_by_b.load(Ordering::Relaxed),
        c.failed.load(Ordering::Relaxed),
    );
    let errors = c.errors.lock().unwrap().clone();
    println!(
        "load: {CLIENTS} clients for {total:?}: {sent} requests, {on_a} answered by A, \
         {on_b} by B (of which {retried} retried after a connection error on A), {failed} failed; \
         A took {stop_took:?} to stop; A's connection errors: {errors:?}"
    );
    assert_eq!(panicked, 0, "a client panicked");
    assert_eq!(
        failed,
        0,
        "failed requests: {:?}",
        c.failures.lock().unwrap()
    );
    assert_eq!(on_a + on_b, sent);
    assert!(on_a > 0 && on_b > 0, "A answered {on_a}, B {on_b}");
    assert!(sent >= 100, "only {sent} requests in {total:?}");
    assert!(
        total < RUN + Duration::from_secs(3),
        "the run took {total:?}"
    );
}

#[derive(Default)]
struct LoadCounts {
    sent: AtomicU64,
    answered_by_a: AtomicU64,
    answered_by_b: AtomicU64,
    retried_on_b: AtomicU64,
    failed: AtomicU64,
    /// A's transport errors, by kind.
    errors: Mutex<BTreeMap<String, u64>>,
    /// The first few failures, for the assertion's message.
    failures: Mutex<Vec<String>>,
}

#[derive(Clone)]
enum Credential {
    Bearer(String),
    SigV4((String, String)),
}

/// One request through the load balancer; counts where it was answered, or that it failed.
fn load_request(
    agent: &ureq::Agent,
    credential: &Credential,
    a: SocketAddr,
    b: SocketAddr,
    a_down: &AtomicBool,
    counts: &LoadCounts,
) {
    counts.sent.fetch_add(1, Ordering::Relaxed);
    // The request as the load balancer received it: the same headers whichever replica gets it
    // (a SigV4 signature covers the Host the agent sent, kept as sent).
    let (headers, expected) = match credential {
        Credential::Bearer(key) => (api_key(key), agent_whoami("agent-bearer", "bearer")),
        Credential::SigV4((id, secret)) => {
            let url = format!("http://{a}/v1/whoami");
            (
                signed_whoami(&url, id, secret),
                agent_whoami("agent-sigv4", "sigv4"),
            )
        }
    };
    let fail = |why: String| {
        counts.failed.fetch_add(1, Ordering::Relaxed);
        let mut failures = counts.failures.lock().unwrap();
        if failures.len() < 10 {
            failures.push(why);
        }
    };
    let check = |replica: &str, answer: Result<(u16, Value), ureq::Error>| match answer {
        Ok((200, who)) if who == expected => true,
        Ok((status, body)) => {
            fail(format!("{replica}: {status} {body}"));
            false
        }
        Err(e) => {
            fail(format!("{replica}: {e}"));
            false
        }
    };
    if !a_down.load(Ordering::Relaxed) {
        match send(
            agent,
            "GET",
            &format!("http://{a}/v1/whoami"),
            &headers,
            None,
        ) {
            Ok(answer) => {
                if check("A", Ok(answer)) {
                    counts.answered_by_a.fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Err(e) => {
                // No answer at all: A is down; the balancer stops sending to it and retries
                // this request on B.
                a_down.store(true, Ordering::Relaxed);
                *counts
                    .errors
                    .lock()
                    .unwrap()
                    .entry(error_kind(&e))
                    .or_default() += 1;
                counts.retried_on_b.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let answer = send(
        agent,
        "GET",
        &format!("http://{b}/v1/whoami"),
        &headers,
        None,
    );
    if check("B", answer) {
        counts.answered_by_b.fetch_add(1, Ordering::Relaxed);
    }
}

fn error_kind(error: &ureq::Error) -> String {
    match error {
        ureq::Error::Io(e) => format!("io {:?}", e.kind()),
        ureq::Error::Timeout(t) => format!("timeout {t:?}"),
        other => other.to_string(),
    }
}

/// Case 5: every replica stopped, `replicas` new ones started on the same database: the agents'
/// keys (bearer and SigV4) and the login key still work, the revoked agent stays revoked, the
/// used proof stays refused, the enrollment token keeps its uses, and a new login rotates.
fn restart_keeps_everything(fleet: &mut Fleet, issued: &Issued, replicas: usize) {
    let old: Vec<SocketAddr> = fleet.replicas.iter().map(|r| r.addr).collect();
    fleet.stop_all();
    for addr in &old {
        let refused = send(
            &agent(CALL_TIMEOUT),
            "GET",
            &format!("http://{addr}/healthz"),
            &[],
            None,
        );
        assert!(refused.is_err(), "{addr} still answers after its stop");
    }
    fleet.start(replicas);
    let (a, b) = (fleet.a(), fleet.b());
    for replica in [a, b] {
        let whoami = replica.url("/v1/whoami");
        let (status, health) = call("GET", &replica.url("/healthz"), &[], None);
        assert_eq!((status, health), (200, json!({"status": "ok"})));
        let (status, who) = call("GET", &whoami, &api_key(&issued.bearer_key), None);
        assert_eq!(status, 200, "{who}");
        assert_eq!(who, agent_whoami("agent-bearer", "bearer"));
        let (id, secret) = &issued.sigv4;
        let (status, who) = call("GET", &whoami, &signed_whoami(&whoami, id, secret), None);
        assert_eq!(status, 200, "{who}");
        assert_eq!(who, agent_whoami("agent-sigv4", "sigv4"));
        let (status, who) = call("GET", &whoami, &api_key(&issued.login_key), None);
        assert_eq!(status, 200, "{who}");
        assert_eq!(
            who,
            json!({"arn": ROLE_ARN, "organization": "acme",
                   "expires_at": issued.login_expires_at, "key_type": "bearer"})
        );
        let (status, refusal) = call("GET", &whoami, &api_key(&issued.revoked_key), None);
        assert_eq!(status, 401, "{refusal}");
        assert_eq!(refusal["error"], "invalid_key");
        let (status, refusal) = call(
            "POST",
            &replica.url("/v1/login/aws"),
            &[],
            Some(&issued.used_proof),
        );
        assert_eq!(status, 401, "{refusal}");
        assert_eq!(refusal["error"], "replayed");
    }
    let body = json!({"agent_id": "agent-revoked", "replace_token": issued.revoked_replace_token})
        .to_string();
    let (status, refusal) = call(
        "POST",
        &a.url("/v1/enroll"),
        &api_key(&issued.enrollment_token),
        Some(&body),
    );
    assert_eq!(status, 403, "{refusal}");
    assert_eq!(refusal["error"], "agent_revoked");
    // Uses so far: agent-bearer, agent-sigv4, agent-revoked and two refused re-enrollments
    // of agent-revoked (before and after the restart).
    assert_eq!(token_uses(b, &issued.enrollment_token_id), 5);
    let after = enroll(b, &issued.enrollment_token, "agent-after-restart", "bearer");
    assert_eq!(token_uses(a, &issued.enrollment_token_id), 6);
    let (status, who) = call(
        "GET",
        &a.url("/v1/whoami"),
        &api_key(&text(&after, "api_key")),
        None,
    );
    assert_eq!(
        (status, who),
        (200, agent_whoami("agent-after-restart", "bearer"))
    );
    // A new login rotates the login key; the previous one holds for the grace period.
    let sts_before = fleet.sts.requests();
    let (status, login) = call("POST", &b.url("/v1/login/aws"), &[], Some(&fleet.proof()));
    assert_eq!(status, 200, "{login}");
    assert_eq!(fleet.sts.requests(), sts_before + 1);
    assert_eq!(
        fleet.sts.requests(),
        issued.logins + 1,
        "STS saw other requests than the logins"
    );
    let rotated = text(&login, "api_key");
    assert_ne!(rotated, issued.login_key);
    for key in [&rotated, &issued.login_key] {
        let (status, who) = call("GET", &a.url("/v1/whoami"), &api_key(key), None);
        assert_eq!(status, 200, "{who}");
        assert_eq!(who["arn"], ROLE_ARN);
    }
}

// The fleet: replicas on one database, the fake STS, the master key; all stopped on drop.

struct Fleet {
    replicas: Vec<Replica>,
    sts: FakeSts,
    database: String,
    master_key_file: String,
    proofs: AtomicUsize,
    /// Dropped (stopped) in `drop`, after the replicas, in the runtime's context.
    postgres: Option<Postgres>,
    kept: Vec<TempDir>,
    runtime: Runtime,
}

impl Fleet {
    fn new(runtime: Runtime, database: String, postgres: Option<Postgres>) -> Fleet {
        let dir = TempDir::new("replicas-master-key");
        let master = dir.path.join("master.key");
        std::fs::write(
            &master,
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
        )
        .unwrap();
        Fleet {
            replicas: Vec::new(),
            sts: FakeSts::start(),
            database,
            master_key_file: master.display().to_string(),
            proofs: AtomicUsize::new(0),
            postgres,
            kept: vec![dir],
            runtime,
        }
    }

    fn keep(&mut self, dir: TempDir) {
        self.kept.push(dir);
    }

    fn name(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    fn a(&self) -> &Replica {
        &self.replicas[0]
    }

    fn b(&self) -> &Replica {
        self.replicas.last().unwrap()
    }

    /// Starts `n` replicas at once (on a new database, they race to migrate it).
    fn start(&mut self, n: usize) {
        assert!(self.replicas.is_empty());
        let configs: Vec<_> = (0..n)
            .map(|_| {
                FileConfig {
                    bind_address: Some("127.0.0.1:0".into()),
                    database: Some(self.database.clone()),
                    sts_endpoints: vec![format!("http://127.0.0.1:{}", self.sts.port)],
                    audience_header: Some(AUDIENCE_HEADER.into()),
                    audience: Some(AUDIENCE.into()),
                    bindings: vec!["arn:aws:iam::123456789012:role/agents-*=acme".into()],
                    admin_token_sha256: Some(keys::hash(ADMIN_TOKEN)),
                    master_key_file: Some(self.master_key_file.clone()),
                    rate_limit: Some("1000:1000".into()),
                    sts_timeout: Some("2s".into()),
                    ..FileConfig::default()
                }
                .resolve()
                .unwrap()
            })
            .collect();
        let bound = self.runtime.block_on(async {
            let binding: Vec<_> = configs
                .into_iter()
                .map(|config| tokio::spawn(Server::bind(config)))
                .collect();
            let mut bound = Vec::new();
            for task in binding {
                bound.push(task.await.unwrap());
            }
            bound
        });
        for server in bound {
            let server = server.unwrap_or_else(|e| panic!("a replica did not start: {e}"));
            let addr = server.local_addr().unwrap();
            let (shutdown, stopped) = oneshot::channel::<()>();
            let task = self.runtime.spawn(server.serve(async move {
                let _ = stopped.await;
            }));
            self.replicas.push(Replica {
                addr,
                shutdown: Some(shutdown),
                task: Some(task),
            });
        }
    }

    /// Stops replica `i` (it stays in the list, its address refusing connections).
    fn stop(&mut self, i: usize) {
        let replica = &mut self.replicas[i];
        let stopped = replica.stop_signal();
        let addr = replica.addr;
        if let Some(task) = stopped {
            let outcome = self
                .runtime
                .block_on(async { tokio::time::timeout(STOP_TIMEOUT, task).await });
            match outcome {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => panic!("replica {addr} failed: {e}"),
                Ok(Err(e)) => panic!("replica {addr} panicked: {e}"),
                Err(_) => panic!("replica {addr} did not stop within {STOP_TIMEOUT:?}"),
            }
        }
    }

    fn stop_all(&mut self) {
        for i in 0..self.replicas.len() {
            self.stop(i);
        }
        self.replicas.clear();
    }

    /// A new proof in Vault's login shape, signed now, each with other credentials: the access
    /// key id is not in the string to sign, so only another secret (or time) makes another
    /// signature.
    fn proof(&self) -> String {
        let n = self.proofs.fetch_add(1, Ordering::Relaxed);
        let url = format!("http://127.0.0.1:{}/", self.sts.port);
        let audience = AUDIENCE_HEADER.to_ascii_lowercase();
        let headers = [("content-type", FORM), (audience.as_str(), AUDIENCE)];
        let credentials = Credentials::new(
            &format!("AKIDREPLICA{n:09}"),
            &format!("replica-test-secret-access-key-{n:09}"),
            None,
        )
        .unwrap();
        let params = SigningParams {
            credentials: &credentials,
            region: "us-east-1",
            service: "sts",
            time: now(),
            settings: Settings::default(),
        };
        let request = Request {
            method: "POST",
            uri: &url,
            headers: &headers,
            payload: Payload::Bytes(STS_BODY.as_bytes()),
        };
        let signed = Signer::new()
            .sign(&request, &params, Location::Headers)
            .unwrap();
        let mut all = serde_json::Map::new();
        for (name, value) in headers {
            all.insert(name.to_string(), json!([value]));
        }
        all.insert("host".into(), json!([signed.host()]));
        for (name, value) in signed.headers() {
            all.insert(name.to_string(), json!([value]));
        }
        json!({
            "iam_http_request_method": "POST",
            "iam_request_url": STANDARD.encode(&url),
            "iam_request_body": STANDARD.encode(STS_BODY),
            "iam_request_headers": STANDARD.encode(Value::Object(all).to_string()),
        })
        .to_string()
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let tasks: Vec<_> = self
            .replicas
            .iter_mut()
            .filter_map(Replica::stop_signal)
            .collect();
        self.runtime.block_on(async {
            for task in tasks {
                let _ = tokio::time::timeout(STOP_TIMEOUT, task).await;
            }
        });
        let _context = self.runtime.enter();
        drop(self.postgres.take());
    }
}

struct Replica {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Replica {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Tells the replica to stop; its task, to wait on.
    fn stop_signal(&mut self) -> Option<tokio::task::JoinHandle<std::io::Result<()>>> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        self.task.take()
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

// The fake STS: every POST answered with one caller identity, each connection closed.

struct FakeSts {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeSts {
    fn start() -> FakeSts {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = stream
                        && answer_sts(stream)
                    {
                        requests.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        };
        FakeSts {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// The POSTs answered so far.
    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wakes the accept loop.
        let _ = TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(1),
        );
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request (its head, then Content-Length bytes) and answers it; whether it was a
/// POST answered with the identity.
fn answer_sts(mut stream: TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if data.len() > 64 * 1024 {
            return false;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_string();
    let length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < head_end + length {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let post = head.starts_with("POST ");
    let (status, body) = if post {
        (
            "200 OK",
            format!(
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>{SESSION_ARN}</Arn>\
                 <UserId>AROAEXAMPLE:session</UserId><Account>123456789012</Account>\
                 </GetCallerIdentityResult></GetCallerIdentityResponse>"
            ),
        )
    } else {
        ("405 Method Not Allowed", String::new())
    };
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.flush();
    post
}

// HTTP calls and the values they carry.

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A request's status and JSON body, or the transport's error (no answer).
fn send(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
) -> Result<(u16, Value), ureq::Error> {
    let answer = match method {
        "GET" => headers
            .iter()
            .fold(agent.get(url), |r, (n, v)| r.header(n, v))
            .call(),
        "DELETE" => headers
            .iter()
            .fold(agent.delete(url), |r, (n, v)| r.header(n, v))
            .call(),
        _ => headers
            .iter()
            .fold(agent.post(url), |r, (n, v)| r.header(n, v))
            .header("content-type", "application/json")
            .send(body.unwrap_or_default()),
    };
    let mut answer = answer?;
    let status = answer.status().as_u16();
    let text = answer.body_mut().read_to_string()?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// [`send`], with a fresh agent, a failure to get any answer failing the test.
fn call(method: &str, url: &str, headers: &[(String, String)], body: Option<&str>) -> (u16, Value) {
    send(&agent(CALL_TIMEOUT), method, url, headers, body)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"))
}

fn admin() -> Vec<(String, String)> {
    vec![("authorization".into(), format!("Bearer {ADMIN_TOKEN}"))]
}

fn api_key(key: &str) -> Vec<(String, String)> {
    vec![("authorization".into(), format!("ApiKey {key}"))]
}

/// The headers of `GET url` signed now with an agent's key pair (service `exchange`).
fn signed_whoami(url: &str, id: &str, secret: &str) -> Vec<(String, String)> {
    let credentials = Credentials::new(id, secret, None).unwrap();
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "exchange",
        time: now(),
        settings: Settings::default(),
    };
    let request = Request {
        method: "GET",
        uri: url,
        headers: &[],
        payload: Payload::Bytes(b""),
    };
    let signed = Signer::new()
        .sign(&request, &params, Location::Headers)
        .unwrap();
    let mut headers = vec![("host".to_string(), signed.host().to_string())];
    headers.extend(
        signed
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    headers
}

fn now() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Timestamp::from_unix_seconds(secs).unwrap()
}

/// Enrolls `agent_id` on `replica` (metadata: the replica's address); the answer, checked.
fn enroll(replica: &Replica, token: &str, agent_id: &str, key_type: &str) -> Value {
    let body = json!({
        "agent_id": agent_id,
        "metadata": {"enrolled_on": replica.addr.to_string()},
        "key_type": key_type,
    })
    .to_string();
    let (status, answer) = call(
        "POST",
        &replica.url("/v1/enroll"),
        &api_key(token),
        Some(&body),
    );
    assert_eq!(status, 200, "{answer}");
    let secrets: &[&str] = if key_type == "sigv4" {
        &["access_key_id", "secret_access_key", "replace_token"]
    } else {
        &["api_key", "replace_token"]
    };
    assert_eq!(
        without(&answer, secrets),
        json!({"agent_id": agent_id, "organization": "acme", "key_type": key_type})
    );
    let replace = text(&answer, "replace_token");
    assert!(replace.starts_with("rt_") && replace.len() == 46);
    answer
}

/// The enrollment token's use count, as `replica` lists it.
fn token_uses(replica: &Replica, id: &str) -> u64 {
    let (status, tokens) = call(
        "GET",
        &replica.url("/v1/admin/enrollment-tokens"),
        &admin(),
        None,
    );
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["enrollment_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("token {id} not listed: {tokens}"));
    token["uses"].as_u64().unwrap()
}

fn agent_whoami(agent_id: &str, key_type: &str) -> Value {
    json!({"agent_id": agent_id, "organization": "acme", "expires_at": null, "key_type": key_type})
}

/// A string field, which must be there.
fn text(value: &Value, field: &str) -> String {
    match value[field].as_str() {
        Some(text) => text.to_string(),
        None => panic!("no string {field} in {value}"),
    }
}

/// The object without `fields` (each of which must be there).
fn without(value: &Value, fields: &[&str]) -> Value {
    let mut object = value.as_object().unwrap().clone();
    for field in fields {
        assert!(object.remove(*field).is_some(), "no {field} in {value}");
    }
    Value::Object(object)
}

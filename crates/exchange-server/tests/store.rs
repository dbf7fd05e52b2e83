//! The store, against SQLite and against a real Postgres: every method with exact outputs,
//! concurrent callers, two replicas on one database, and a restart.
//!
//! Each backend runs every case at once, each on its own database; a case that fails is named
//! at the end, and the Postgres server is stopped either way.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sigv4_exchange_server::keys;
use sigv4_exchange_server::store::{
    Agent, EnrollRefusal, EnrollmentToken, KeyKind, KeyMaterial, NewEnrollmentToken, Principal,
    Pruned, Store, StoreError, Subject, TokenUse,
};
use support::{Backend, Db};

/// A time (unix milliseconds) the cases count from.
const T0: i64 = 1_800_000_000_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

type Case = fn(Db) -> Pin<Box<dyn Future<Output = ()> + Send>>;

fn cases() -> Vec<(&'static str, Case)> {
    macro_rules! cases {
        ($($case:ident),* $(,)?) => {
            vec![$((stringify!($case), (|db| Box::pin($case(db))) as Case)),*]
        };
    }
    cases![
        proofs_are_fresh_once,
        proof_replays_race,
        login_keys_rotate,
        login_rotations_race,
        enrollment_tokens,
        token_uses_race,
        bearer_agents,
        sigv4_agents,
        replicas_share_state,
        restart_keeps_everything,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    run(Backend::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    run(Backend::postgres().await).await;
}

#[tokio::test]
async fn an_unopenable_file_is_a_database_error() {
    let opened = Store::connect("sqlite:///nonexistent-directory/x/store.db").await;
    assert!(matches!(opened, Err(StoreError::Database(_))), "{opened:?}");
    let opened = Store::connect("mysql://localhost/db").await;
    assert!(
        matches!(opened, Err(StoreError::UnsupportedUrl)),
        "{opened:?}"
    );
}

async fn run(backend: Backend) {
    let mut running = Vec::new();
    for (name, case) in cases() {
        let db = backend.database(name).await;
        running.push((name, tokio::spawn(case(db))));
    }
    let mut failed = Vec::new();
    for (name, task) in running {
        if task.await.is_err() {
            failed.push(name);
        }
    }
    assert!(failed.is_empty(), "failed cases: {failed:?}");
}

// Small helpers, so each case reads as what it checks.

fn token(
    id: &str,
    hash: &str,
    expires_at: Option<i64>,
    use_limit: Option<i64>,
) -> NewEnrollmentToken {
    NewEnrollmentToken {
        id: id.into(),
        name: format!("{id} name"),
        organization: "org-a".into(),
        token_hash: hash.into(),
        expires_at,
        use_limit,
    }
}

fn bearer(hash: &str) -> KeyMaterial {
    KeyMaterial::Bearer { hash: hash.into() }
}

fn sigv4(access_key_id: &str) -> KeyMaterial {
    KeyMaterial::SigV4 {
        access_key_id: access_key_id.into(),
    }
}

fn arn_key(arn: &str, organization: &str, expires_at: i64) -> Option<Principal> {
    Some(Principal {
        subject: Subject::Arn(arn.into()),
        organization: organization.into(),
        kind: KeyKind::Bearer,
        expires_at: Some(expires_at),
    })
}

fn agent_key(id: &str, kind: KeyKind) -> Option<Principal> {
    Some(Principal {
        subject: Subject::Agent(id.into()),
        organization: "org-a".into(),
        kind,
        expires_at: None,
    })
}

/// A token with unlimited uses, and one use of it.
async fn used_token(store: &Store, id: &str) -> TokenUse {
    let hash = keys::hash(id);
    store
        .create_enrollment_token(&token(id, &hash, None, None), T0)
        .await
        .unwrap();
    store
        .use_enrollment_token(&hash, T0)
        .await
        .unwrap()
        .unwrap()
}

// The cases.

async fn proofs_are_fresh_once(db: Db) {
    let store = db.open().await;
    let until = T0 + 15 * MINUTE;
    assert!(store.remember_proof("sig-a", until, T0).await.unwrap());
    assert!(!store.remember_proof("sig-a", until, T0 + 1).await.unwrap());
    assert!(
        store
            .remember_proof("sig-b", T0 + 30_000, T0 + 2)
            .await
            .unwrap()
    );
    // A minute after the first call, a call prunes: sig-b's window is over.
    assert!(
        store
            .remember_proof("sig-c", until, T0 + MINUTE)
            .await
            .unwrap()
    );
    assert_eq!(
        store.prune_expired(T0 + MINUTE).await.unwrap(),
        Pruned { proofs: 0, keys: 0 }
    );
    assert!(
        !store
            .remember_proof("sig-a", until, T0 + MINUTE + 1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .remember_proof("sig-c", until, T0 + MINUTE + 2)
            .await
            .unwrap()
    );
    assert_eq!(
        store.prune_expired(until).await.unwrap(),
        Pruned { proofs: 2, keys: 0 }
    );
}

async fn proof_replays_race(db: Db) {
    let store = Arc::new(db.open().await);
    let attempts: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.remember_proof("sig", T0 + 15 * MINUTE, T0).await })
        })
        .collect();
    let mut fresh = 0;
    for attempt in attempts {
        if attempt.await.unwrap().unwrap() {
            fresh += 1;
        }
    }
    assert_eq!(fresh, 1);
}

async fn login_keys_rotate(db: Db) {
    let store = db.open().await;
    let arn = "arn:aws:iam::123456789012:role/agent";
    let (k1, k2, k3) = (keys::hash("k1"), keys::hash("k2"), keys::hash("k3"));
    let t1 = T0 + 30 * MINUTE;
    let t2 = t1 + 10_000;

    store
        .issue_login_key(arn, "org-a", &k1, T0 + HOUR, MINUTE, T0)
        .await
        .unwrap();
    assert_eq!(
        store.lookup_bearer(&k1, T0).await.unwrap(),
        arn_key(arn, "org-a", T0 + HOUR)
    );
    assert_eq!(store.lookup_bearer(&k1, T0 + HOUR).await.unwrap(), None);
    // A bearer key is not an access key id.
    assert_eq!(store.lookup_sigv4(&k1, T0).await.unwrap(), None);

    // Rotation: k1 stays valid for the grace minute.
    store
        .issue_login_key(arn, "org-a", &k2, t1 + HOUR, MINUTE, t1)
        .await
        .unwrap();
    assert_eq!(
        store.lookup_bearer(&k2, t1).await.unwrap(),
        arn_key(arn, "org-a", t1 + HOUR)
    );
    assert_eq!(
        store.lookup_bearer(&k1, t1 + MINUTE - 1).await.unwrap(),
        arn_key(arn, "org-a", t1 + MINUTE)
    );
    assert_eq!(store.lookup_bearer(&k1, t1 + MINUTE).await.unwrap(), None);

    // Another rotation within the grace: k1 goes, k2 is the previous key. The bindings now map
    // the ARN to org-b: the new key acts for it, k2 keeps the organization it was issued for.
    store
        .issue_login_key(arn, "org-b", &k3, t2 + HOUR, MINUTE, t2)
        .await
        .unwrap();
    assert_eq!(store.lookup_bearer(&k1, t2).await.unwrap(), None);
    assert_eq!(
        store.lookup_bearer(&k2, t2).await.unwrap(),
        arn_key(arn, "org-a", t2 + MINUTE)
    );
    assert_eq!(
        store.lookup_bearer(&k3, t2).await.unwrap(),
        arn_key(arn, "org-b", t2 + HOUR)
    );

    // The grace never extends a key past its own expiry.
    let short = "arn:aws:iam::123456789012:role/short";
    let (s1, s2) = (keys::hash("s1"), keys::hash("s2"));
    store
        .issue_login_key(short, "org-a", &s1, T0 + 10, HOUR, T0)
        .await
        .unwrap();
    store
        .issue_login_key(short, "org-a", &s2, T0 + HOUR, HOUR, T0 + 5)
        .await
        .unwrap();
    assert_eq!(
        store.lookup_bearer(&s1, T0 + 9).await.unwrap(),
        arn_key(short, "org-a", T0 + 10)
    );
    assert_eq!(store.lookup_bearer(&s1, T0 + 10).await.unwrap(), None);

    // No grace: the previous key stops at once.
    let strict = "arn:aws:iam::123456789012:role/strict";
    let (n1, n2) = (keys::hash("n1"), keys::hash("n2"));
    store
        .issue_login_key(strict, "org-a", &n1, T0 + HOUR, 0, T0)
        .await
        .unwrap();
    store
        .issue_login_key(strict, "org-a", &n2, T0 + HOUR, 0, T0 + 1)
        .await
        .unwrap();
    assert_eq!(store.lookup_bearer(&n1, T0 + 1).await.unwrap(), None);

    // Expired keys go: s1 (T0+10), n1 (T0+1), k2 (t2+1min); k3, s2 and n2 remain.
    assert_eq!(
        store.prune_expired(t2 + MINUTE).await.unwrap(),
        Pruned { proofs: 0, keys: 3 }
    );
    assert_eq!(
        store.lookup_bearer(&k3, t2 + MINUTE).await.unwrap(),
        arn_key(arn, "org-b", t2 + HOUR)
    );
}

async fn login_rotations_race(db: Db) {
    let store = Arc::new(db.open().await);
    let arn = "arn:aws:iam::123456789012:role/busy";
    let logins: Vec<_> = (0..20)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let hash = keys::hash(&format!("key-{i}"));
                store
                    .issue_login_key(arn, "org-a", &hash, T0 + HOUR, MINUTE, T0)
                    .await
            })
        })
        .collect();
    for login in logins {
        login.await.unwrap().unwrap();
    }
    // Whatever the order: one current key and one previous one, never more.
    let mut valid = 0;
    for i in 0..20 {
        let hash = keys::hash(&format!("key-{i}"));
        if store.lookup_bearer(&hash, T0).await.unwrap().is_some() {
            valid += 1;
        }
    }
    assert_eq!(valid, 2);
}

async fn enrollment_tokens(db: Db) {
    let store = db.open().await;
    let (h1, h2, h3) = (keys::hash("et_1"), keys::hash("et_2"), keys::hash("et_3"));
    let created = store
        .create_enrollment_token(&token("tok-1", &h1, None, Some(2)), T0)
        .await
        .unwrap();
    assert_eq!(
        created,
        EnrollmentToken {
            id: "tok-1".into(),
            name: "tok-1 name".into(),
            organization: "org-a".into(),
            created_at: T0,
            expires_at: None,
            use_limit: Some(2),
            uses: 0,
            revoked_at: None,
        }
    );
    store
        .create_enrollment_token(&token("tok-2", &h2, Some(T0 + 1000), None), T0 + 1)
        .await
        .unwrap();
    store
        .create_enrollment_token(&token("tok-3", &h3, None, None), T0 + 2)
        .await
        .unwrap();
    // Ids and hashes are unique.
    let duplicate = store
        .create_enrollment_token(&token("tok-1", &keys::hash("other"), None, None), T0)
        .await;
    assert!(
        matches!(duplicate, Err(StoreError::Database(_))),
        "{duplicate:?}"
    );

    let used = |token_id: &str| {
        Ok(TokenUse {
            token_id: token_id.into(),
            organization: "org-a".into(),
        })
    };
    assert_eq!(
        store.use_enrollment_token(&h1, T0).await.unwrap(),
        used("tok-1")
    );
    assert_eq!(
        store.use_enrollment_token(&h1, T0).await.unwrap(),
        used("tok-1")
    );
    assert_eq!(
        store.use_enrollment_token(&h1, T0).await.unwrap(),
        Err(EnrollRefusal::TokenExhausted)
    );
    assert_eq!(
        store.use_enrollment_token(&h2, T0 + 999).await.unwrap(),
        used("tok-2")
    );
    assert_eq!(
        store.use_enrollment_token(&h2, T0 + 1000).await.unwrap(),
        Err(EnrollRefusal::TokenExpired)
    );
    assert_eq!(
        store
            .use_enrollment_token(&keys::hash("et_unknown"), T0)
            .await
            .unwrap(),
        Err(EnrollRefusal::UnknownToken)
    );
    assert!(
        store
            .revoke_enrollment_token("tok-3", T0 + 5)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_enrollment_token("tok-3", T0 + 6)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_enrollment_token("tok-unknown", T0 + 6)
            .await
            .unwrap()
    );
    assert_eq!(
        store.use_enrollment_token(&h3, T0 + 7).await.unwrap(),
        Err(EnrollRefusal::TokenRevoked)
    );

    let listed = store.list_enrollment_tokens().await.unwrap();
    let summary: Vec<_> = listed
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.created_at,
                t.expires_at,
                t.use_limit,
                t.uses,
                t.revoked_at,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("tok-1", T0, None, Some(2), 2, None),
            ("tok-2", T0 + 1, Some(T0 + 1000), None, 1, None),
            ("tok-3", T0 + 2, None, None, 0, Some(T0 + 5)),
        ]
    );
    assert_eq!(listed[0], EnrollmentToken { uses: 2, ..created });
}

async fn token_uses_race(db: Db) {
    let store = Arc::new(db.open().await);
    let hash = keys::hash("et_shared");
    store
        .create_enrollment_token(&token("tok-shared", &hash, None, Some(10)), T0)
        .await
        .unwrap();
    let uses: Vec<_> = (0..50)
        .map(|_| {
            let (store, hash) = (store.clone(), hash.clone());
            tokio::spawn(async move { store.use_enrollment_token(&hash, T0).await })
        })
        .collect();
    let (mut granted, mut exhausted) = (0, 0);
    for used in uses {
        match used.await.unwrap().unwrap() {
            Ok(_) => granted += 1,
            Err(EnrollRefusal::TokenExhausted) => exhausted += 1,
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!((granted, exhausted), (10, 40));
    assert_eq!(store.list_enrollment_tokens().await.unwrap()[0].uses, 10);
}

async fn bearer_agents(db: Db) {
    let store = db.open().await;
    let token = used_token(&store, "tok-a").await;
    let (k1, k2) = (keys::hash("sk_1"), keys::hash("sk_2"));
    let (r1, r2, r3) = (keys::hash("rt_1"), keys::hash("rt_2"), keys::hash("rt_3"));
    let meta1 = r#"{"hostname":"a"}"#;
    let meta2 = r#"{"hostname":"a2"}"#;

    let enrolled = store
        .enroll_agent("agent-1", &token, meta1, &bearer(&k1), &r1, T0)
        .await;
    assert_eq!(enrolled.unwrap(), Ok(()));
    assert_eq!(
        store.lookup_bearer(&k1, T0).await.unwrap(),
        agent_key("agent-1", KeyKind::Bearer)
    );
    assert_eq!(store.lookup_sigv4(&k1, T0).await.unwrap(), None);

    // The id is taken: without the replace token nothing changes.
    let again = store
        .enroll_agent("agent-1", &token, meta2, &bearer(&k2), &r2, T0 + 1)
        .await;
    assert_eq!(again.unwrap(), Err(EnrollRefusal::AlreadyEnrolled));
    assert_eq!(store.lookup_bearer(&k2, T0 + 1).await.unwrap(), None);
    let wrong = store
        .reenroll_agent(
            "agent-1",
            &keys::hash("rt_wrong"),
            meta2,
            &bearer(&k2),
            &r2,
            T0 + 2,
        )
        .await;
    assert_eq!(wrong.unwrap(), Err(EnrollRefusal::BadReplaceToken));
    assert_eq!(
        store.lookup_bearer(&k1, T0 + 2).await.unwrap(),
        agent_key("agent-1", KeyKind::Bearer)
    );

    // The replace token re-issues the key; the old key and the old replace token stop working.
    let reenrolled = store
        .reenroll_agent("agent-1", &r1, meta2, &bearer(&k2), &r2, T0 + 10)
        .await;
    assert_eq!(reenrolled.unwrap(), Ok("org-a".to_owned()));
    assert_eq!(store.lookup_bearer(&k1, T0 + 10).await.unwrap(), None);
    assert_eq!(
        store.lookup_bearer(&k2, T0 + 10).await.unwrap(),
        agent_key("agent-1", KeyKind::Bearer)
    );
    let replayed = store
        .reenroll_agent("agent-1", &r1, meta2, &bearer(&k1), &r3, T0 + 11)
        .await;
    assert_eq!(replayed.unwrap(), Err(EnrollRefusal::BadReplaceToken));
    let ghost = store
        .reenroll_agent("agent-ghost", &r1, meta2, &bearer(&k1), &r3, T0 + 11)
        .await;
    assert_eq!(ghost.unwrap(), Err(EnrollRefusal::UnknownAgent));

    let mut agent = Agent {
        id: "agent-1".into(),
        organization: "org-a".into(),
        metadata_json: meta2.into(),
        enrolled_with: "tok-a".into(),
        enrolled_at: T0,
        updated_at: T0 + 10,
        revoked_at: None,
        key_kind: Some(KeyKind::Bearer),
    };
    assert_eq!(store.list_agents().await.unwrap(), [agent.clone()]);

    // Revoked: its key stops at once; it can neither re-enroll nor enroll afresh.
    assert!(store.revoke_agent("agent-1", T0 + 20).await.unwrap());
    assert!(!store.revoke_agent("agent-1", T0 + 21).await.unwrap());
    assert!(!store.revoke_agent("agent-ghost", T0 + 21).await.unwrap());
    assert_eq!(store.lookup_bearer(&k2, T0 + 20).await.unwrap(), None);
    let revoked = store
        .reenroll_agent("agent-1", &r2, meta2, &bearer(&k1), &r3, T0 + 22)
        .await;
    assert_eq!(revoked.unwrap(), Err(EnrollRefusal::AgentRevoked));
    let fresh = store
        .enroll_agent("agent-1", &token, meta1, &bearer(&k1), &r3, T0 + 23)
        .await;
    assert_eq!(fresh.unwrap(), Err(EnrollRefusal::AlreadyEnrolled));
    agent.revoked_at = Some(T0 + 20);
    assert_eq!(store.list_agents().await.unwrap(), [agent]);
}

async fn sigv4_agents(db: Db) {
    let store = db.open().await;
    let token = used_token(&store, "tok-s").await;
    let (id1, id2) = ("AKEXAAAAAAAAAAAAAAAA", "AKEXBBBBBBBBBBBBBBBB");
    let (r1, r2, r3) = (keys::hash("rt_1"), keys::hash("rt_2"), keys::hash("rt_3"));
    let enrolled = store
        .enroll_agent("agent-s", &token, "{}", &sigv4(id1), &r1, T0)
        .await;
    assert_eq!(enrolled.unwrap(), Ok(()));
    assert_eq!(
        store.lookup_sigv4(id1, T0).await.unwrap(),
        agent_key("agent-s", KeyKind::SigV4)
    );
    assert_eq!(store.lookup_bearer(id1, T0).await.unwrap(), None);

    let reenrolled = store
        .reenroll_agent("agent-s", &r1, "{}", &sigv4(id2), &r2, T0 + 1)
        .await;
    assert_eq!(reenrolled.unwrap(), Ok("org-a".to_owned()));
    assert_eq!(store.lookup_sigv4(id1, T0 + 1).await.unwrap(), None);
    assert_eq!(
        store.lookup_sigv4(id2, T0 + 1).await.unwrap(),
        agent_key("agent-s", KeyKind::SigV4)
    );

    // Re-enrollment may change the kind of key.
    let k = keys::hash("sk_s");
    let rekeyed = store
        .reenroll_agent("agent-s", &r2, "{}", &bearer(&k), &r3, T0 + 2)
        .await;
    assert_eq!(rekeyed.unwrap(), Ok("org-a".to_owned()));
    assert_eq!(store.lookup_sigv4(id2, T0 + 2).await.unwrap(), None);
    assert_eq!(
        store.lookup_bearer(&k, T0 + 2).await.unwrap(),
        agent_key("agent-s", KeyKind::Bearer)
    );
    let listed = store.list_agents().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].key_kind, Some(KeyKind::Bearer));
}

async fn replicas_share_state(db: Db) {
    let (a, b) = (db.open().await, db.open().await);
    let token = used_token(&a, "tok-r").await;
    let k = keys::hash("sk_r");
    let enrolled = a
        .enroll_agent(
            "agent-r",
            &token,
            "{}",
            &bearer(&k),
            &keys::hash("rt_r"),
            T0,
        )
        .await;
    assert_eq!(enrolled.unwrap(), Ok(()));
    assert_eq!(
        b.lookup_bearer(&k, T0).await.unwrap(),
        agent_key("agent-r", KeyKind::Bearer)
    );
    assert!(a.revoke_agent("agent-r", T0 + 1).await.unwrap());
    assert_eq!(b.lookup_bearer(&k, T0 + 1).await.unwrap(), None);
    assert!(!b.revoke_agent("agent-r", T0 + 2).await.unwrap());

    assert!(b.revoke_enrollment_token("tok-r", T0 + 3).await.unwrap());
    assert_eq!(
        a.use_enrollment_token(&keys::hash("tok-r"), T0 + 4)
            .await
            .unwrap(),
        Err(EnrollRefusal::TokenRevoked)
    );

    assert!(a.remember_proof("sig", T0 + 15 * MINUTE, T0).await.unwrap());
    assert!(!b.remember_proof("sig", T0 + 15 * MINUTE, T0).await.unwrap());

    let arn = "arn:aws:iam::123456789012:role/r";
    a.issue_login_key(arn, "org-a", &keys::hash("l1"), T0 + HOUR, MINUTE, T0)
        .await
        .unwrap();
    b.issue_login_key(arn, "org-a", &keys::hash("l2"), T0 + HOUR, MINUTE, T0 + 1)
        .await
        .unwrap();
    assert_eq!(
        a.lookup_bearer(&keys::hash("l1"), T0 + 1).await.unwrap(),
        arn_key(arn, "org-a", T0 + 1 + MINUTE)
    );
}

async fn restart_keeps_everything(db: Db) {
    let store = db.open().await;
    let token = used_token(&store, "tok-k").await;
    let k = keys::hash("sk_k");
    let enrolled = store
        .enroll_agent(
            "agent-k",
            &token,
            "{}",
            &bearer(&k),
            &keys::hash("rt_k"),
            T0,
        )
        .await;
    assert_eq!(enrolled.unwrap(), Ok(()));
    let arn = "arn:aws:iam::123456789012:role/k";
    let l = keys::hash("l");
    store
        .issue_login_key(arn, "org-a", &l, T0 + HOUR, MINUTE, T0)
        .await
        .unwrap();
    assert!(
        store
            .remember_proof("sig", T0 + 15 * MINUTE, T0)
            .await
            .unwrap()
    );
    let tokens = store.list_enrollment_tokens().await.unwrap();
    let agents = store.list_agents().await.unwrap();
    store.close().await;
    drop(store);

    // Migrations run again (as nothing to do) on the existing schema.
    let store = db.open().await;
    assert_eq!(store.list_enrollment_tokens().await.unwrap(), tokens);
    assert_eq!(store.list_agents().await.unwrap(), agents);
    assert_eq!(
        store.lookup_bearer(&k, T0).await.unwrap(),
        agent_key("agent-k", KeyKind::Bearer)
    );
    assert_eq!(
        store.lookup_bearer(&l, T0).await.unwrap(),
        arn_key(arn, "org-a", T0 + HOUR)
    );
    assert!(
        !store
            .remember_proof("sig", T0 + 15 * MINUTE, T0)
            .await
            .unwrap()
    );
    let reenrolled = store
        .reenroll_agent(
            "agent-k",
            &keys::hash("rt_k"),
            "{}",
            &bearer(&k),
            &keys::hash("rt_k2"),
            T0 + 1,
        )
        .await;
    assert_eq!(reenrolled.unwrap(), Ok("org-a".to_owned()));
}

#[tokio::test]
async fn sqlite_files_are_created_in_wal_mode() {
    let dir = support::TempDir::new("wal");
    let path = dir.path.join("store.db");
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    store.close().await;
    // The SQLite header's file format versions (bytes 18 and 19) are 2 in WAL mode, 1 otherwise.
    let header = std::fs::read(&path).unwrap();
    assert_eq!(header.get(18..20), Some(&[2u8, 2][..]));
}

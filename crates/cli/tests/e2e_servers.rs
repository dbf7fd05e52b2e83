//! End to end: the `sigv4` binary (signing inside the component) against real verifiers on
//! 127.0.0.1, started here on free ports and stopped at the end: moto with signature checking on,
//! and s3s-fs. `make test` installs both (pinned) into `.tools`.

mod support;

use support::*;

#[test]
fn moto_accepts_header_signed_session_token_and_unsigned_payload_requests() {
    let (moto, keys) = moto();
    let url = |path: &str| format!("{}{path}", moto.url);
    let whoami = sigv4(&keys.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(
        text(&whoami).contains("Arn: arn:aws:iam::123456789012:user/e2e"),
        "{}",
        text(&whoami)
    );

    let s3 = |keys: &Keys, args: &[&str]| {
        sigv4(&keys.env(), &[&["send", "--service", "s3"], args].concat())
    };
    assert!(
        s3(&keys, &["-X", "PUT", &url("/e2e-bucket")])
            .status
            .success()
    );
    // Keys with a space, an at sign, a plus and slashes, as sent on the wire. moto rebuilds the
    // URL it verifies from werkzeug's decoded path (an IRI: non-ASCII raw, `+`, `@`, `%` and other
    // sub-delimiters raw), so escapes of those (`%2B`, `%40`, `%25`, `%E2%98%83`: what botocore
    // sends) cannot be checked against moto: the s3s-fs test covers them.
    for key in ["a%20b.txt", "at@home", "plus+sign", "dir/sub/file"] {
        let object = url(&format!("/e2e-bucket/{key}"));
        let put = s3(
            &keys,
            &[
                "-X",
                "PUT",
                "-H",
                "content-type: application/octet-stream",
                "-d",
                key,
                &object,
            ],
        );
        assert!(put.status.success(), "PUT {key}: {}", text(&put));
        let get = s3(&keys, &[&object]);
        assert!(
            get.status.success() && text(&get).contains(key),
            "GET {key}: {}",
            text(&get)
        );
    }
    let unsigned = s3(
        &keys,
        &[
            "-X",
            "PUT",
            "--unsigned-payload",
            "-H",
            "content-type: application/octet-stream",
            "-d",
            "unsigned",
            &url("/e2e-bucket/unsigned"),
        ],
    );
    assert!(unsigned.status.success(), "{}", text(&unsigned));

    // A double-encoding service (Lambda) and a path with a raw space: sent as `%20` and signed
    // as a service reading that request line computes it, `%2520` (it was signed `%20` before,
    // and not sent as signed). moto answers 404 for the missing function once the signature
    // holds, 403 SignatureDoesNotMatch otherwise. (moto rebuilds non-ASCII paths raw and encodes
    // them once, so those are checked against s3s-fs, which takes S3's single encoding.)
    for path in ["a b", "a%20b"] {
        let invoke = sigv4(
            &keys.env(),
            &[
                "send",
                "-X",
                "POST",
                "--service",
                "lambda",
                "-d",
                "{}",
                &url(&format!("/2015-03-31/functions/{path}/invocations")),
            ],
        );
        assert!(
            text(&invoke)
                .contains("Function not found: arn:aws:lambda:us-east-1:123456789012:function:a b"),
            "{path}: {}",
            text(&invoke)
        );
    }

    // Temporary credentials with a session token, from AssumeRole.
    let temporary = assume_role(&keys, &moto, "e2e-role");
    let whoami = sigv4(&temporary.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(
        text(&whoami).contains("assumed-role/e2e-role/e2e"),
        "{}",
        text(&whoami)
    );

    // Tampered: a wrong secret, and a token that is not the one issued.
    let wrong_secret = Keys {
        secret: format!("x{}", keys.secret),
        ..Keys {
            id: keys.id.clone(),
            secret: String::new(),
            token: None,
        }
    };
    let refused = s3(&wrong_secret, &[&url("/e2e-bucket/a%20b.txt")]);
    assert!(
        !refused.status.success() && text(&refused).contains("SignatureDoesNotMatch"),
        "{}",
        text(&refused)
    );
    let wrong_token = Keys {
        token: Some("not-the-token".into()),
        ..temporary
    };
    let refused = sigv4(&wrong_token.env(), &["whoami", "--endpoint-url", &url("/")]);
    assert!(!refused.status.success(), "{}", text(&refused));
}

/// A URL with the scheme's default port (`http://host:80/`): HTTP clients send `Host: host`,
/// the core signs that, and the agent now sends the host it signed (it sent `host:80` before,
/// and moto answered SignatureDoesNotMatch). Port 80 of 127.0.0.2, a loopback address nothing
/// else here uses (the tests run as root).
#[test]
fn a_default_port_in_the_url_is_neither_signed_nor_sent() {
    let (moto, keys) = moto_at("127.0.0.2", 80);
    for url in ["http://127.0.0.2:80/", "http://127.0.0.2/"] {
        let out = sigv4(&keys.env(), &["whoami", "--endpoint-url", url]);
        assert!(out.status.success(), "{url}: {}", text(&out));
        assert!(text(&out).contains("Arn: arn:aws:iam::"), "{}", text(&out));
    }
    drop(moto);
}

#[test]
fn s3s_fs_accepts_header_signed_presigned_and_unsigned_payload_requests() {
    let root = std::env::temp_dir().join(format!("sigv4-e2e-s3s-{}", std::process::id()));
    let keys = Keys {
        id: "AKIDS3SFS".into(),
        secret: "s3s-fs/secret+key".into(),
        token: None,
    };
    let server = s3s_fs(&root, &keys);
    // Non-ASCII and escaped reserved characters, which moto cannot check (see the moto test).
    let object = format!("{}/bucket/caf%C3%A9%20%2B%20tea%40home%25.txt", server.url);
    let send = |keys: &Keys, args: &[&str]| {
        sigv4(&keys.env(), &[&["send", "--service", "s3"], args].concat())
    };
    // PUT `body` at `url` and GET it back, each signed and sent by the CLI.
    let put_and_get = |url: &str, body: &str| {
        let put = send(
            &keys,
            &[
                "-X",
                "PUT",
                "-H",
                "content-type: application/octet-stream",
                "-d",
                body,
                url,
            ],
        );
        assert!(put.status.success(), "{}", text(&put));
        assert!(text(&send(&keys, &[url])).contains(body));
    };
    put_and_get(&object, "signed body");
    let unsigned = send(
        &keys,
        &[
            "-X",
            "PUT",
            "--unsigned-payload",
            "-d",
            "unsigned body",
            &format!("{}/bucket/unsigned", server.url),
        ],
    );
    assert!(unsigned.status.success(), "{}", text(&unsigned));

    // Without --unsigned-payload: an S3 presigned URL signs UNSIGNED-PAYLOAD, the core's rule
    // for the service (the empty body's hash was signed before, and s3s-fs refused the URL).
    let presign = |url: &str| {
        let out = sigv4(
            &keys.env(),
            &["presign", "--service", "s3", "--expires", "60", url],
        );
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let presigned = presign(&object);
    let fetch = |url: &str| {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(url).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    assert_eq!(fetch(&presigned), (200, "signed body".to_string()));
    // A raw space and non-ASCII characters in the path: sent and presigned in their wire form,
    // which is what was signed (wasi:http refused the raw path before).
    let raw = format!("{}/bucket/café au lait.txt", server.url);
    put_and_get(&raw, "raw path");
    let presigned_raw = presign(&raw);
    assert!(
        presigned_raw.contains("/bucket/caf%C3%A9%20au%20lait.txt?X-Amz-Algorithm="),
        "{presigned_raw}"
    );
    assert_eq!(fetch(&presigned_raw), (200, "raw path".to_string()));
    let tampered = format!(
        "{}{}",
        &presigned[..presigned.len() - 1],
        if presigned.ends_with('0') { '1' } else { '0' }
    );
    assert_ne!(fetch(&tampered).0, 200);
    let wrong = Keys {
        id: keys.id.clone(),
        secret: "wrong".into(),
        token: None,
    };
    assert!(!send(&wrong, &[&object]).status.success());
    drop(server);
    std::fs::remove_dir_all(&root).unwrap();
}

/// A profile that assumes a role with another profile's keys: AssumeRole is signed inside the
/// component and verified by moto; the temporary credentials then sign `whoami`.
#[test]
fn profile_assume_role_through_sts_on_moto() {
    let (moto, keys) = moto();
    let arn = create_role(&keys, &moto, "agent-role");
    let dir = std::env::temp_dir().join(format!("sigv4-e2e-profiles-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            keys.id, keys.secret
        ),
    )
    .unwrap();
    std::fs::write(dir.join("config"), format!("[profile agent]\nrole_arn = {arn}\nsource_profile = base\nrole_session_name = e2e-agent\nregion = us-east-1\n")).unwrap();
    let env = [
        (
            "AWS_CONFIG_FILE",
            dir.join("config").to_str().unwrap().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("credentials").to_str().unwrap().to_string(),
        ),
        ("AWS_PROFILE", "agent".to_string()),
        ("AWS_ENDPOINT_URL_STS", moto.url.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let credentials = sigv4(&env, &["credentials", "--json"]);
    assert!(credentials.status.success(), "{}", text(&credentials));
    let json: serde_json::Value = serde_json::from_slice(&credentials.stdout).unwrap();
    assert_eq!(json["provider"], "assume_role");
    assert_eq!(json["session_token"], true);
    assert!(json["expiration"].is_string());
    let whoami = sigv4(
        &env,
        &["whoami", "--endpoint-url", &format!("{}/", moto.url)],
    );
    assert!(
        text(&whoami).contains("assumed-role/agent-role/e2e-agent"),
        "{}",
        text(&whoami)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// AssumeRoleWithWebIdentity from AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN. The call is
/// unsigned (the token authenticates it), and moto cannot take unsigned calls once it checks
/// signatures, so this moto runs without checking.
#[test]
fn web_identity_through_sts_on_moto() {
    let port = free_port();
    let moto = start(
        &tools().join("venv/bin/moto_server"),
        &["-H", "127.0.0.1", "-p", &port.to_string()],
        &[],
        port,
    );
    let token_file = std::env::temp_dir().join(format!("sigv4-e2e-oidc-{}", std::process::id()));
    std::fs::write(
        &token_file,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJl\n",
    )
    .unwrap();
    let env = [
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap()),
        ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/federated"),
        ("AWS_ROLE_SESSION_NAME", "entra-agent"),
        ("AWS_ENDPOINT_URL_STS", moto.url.as_str()),
    ];
    let credentials = sigv4(&env, &["credentials", "--json"]);
    assert!(credentials.status.success(), "{}", text(&credentials));
    let json: serde_json::Value = serde_json::from_slice(&credentials.stdout).unwrap();
    assert_eq!(json["provider"], "web_identity");
    assert_eq!(json["session_token"], true);
    let whoami = sigv4(
        &env,
        &["whoami", "--endpoint-url", &format!("{}/", moto.url)],
    );
    assert!(
        text(&whoami).contains("assumed-role/federated/entra-agent"),
        "{}",
        text(&whoami)
    );
    std::fs::write(&token_file, "").unwrap();
    let missing = sigv4(
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token"),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/x"),
        ],
        &["credentials"],
    );
    assert!(
        !missing.status.success()
            && text(&missing).contains("web identity: the token file /nonexistent/token: "),
        "{}",
        text(&missing)
    );
    std::fs::remove_file(&token_file).unwrap();
}

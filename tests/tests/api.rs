//! Issue #3 end to end: the real daemon, driven over HTTPS with curl.

use feedline_tests::api::{
    set_up_admin, setup_code, wait_ready, Client, Deployment, ADMIN_PASSWORD,
};
use feedline_tests::{free_port, srt_output};
use serde_json::json;
use std::time::Duration;

fn deployment(dir: &std::path::Path, tls: bool, outputs: &str) -> Deployment {
    Deployment::two_rung(dir, tls, "", outputs)
}

#[test]
fn first_start_setup_login_roles_tokens_csrf_and_audit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let d = deployment(
        dir.path(),
        true,
        &srt_output("primary", "listener", port, ""),
    );
    let appliance = d.start();
    let anonymous = d.client();
    wait_ready(&anonymous, &appliance, Duration::from_secs(20));

    // No default password: nothing is readable until setup, and setup needs the logged code.
    assert_eq!(
        anonymous.get("/api/v1/health").json()["setup_required"],
        true
    );
    assert_eq!(anonymous.get("/api/v1/channels").status, 401);
    let wrong = anonymous.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": "AAAA-AAAA-AAAA-AAAA", "username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(wrong.status, 422, "{wrong:?}");
    assert_eq!(wrong.json()["fields"][0]["field"], "code");
    let short = anonymous.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": setup_code(&appliance), "username": "admin", "password": "short"}),
    );
    assert_eq!(short.status, 422);
    assert_eq!(short.json()["fields"][0]["field"], "password");

    let mut browser = d.client();
    let setup = browser.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": setup_code(&appliance), "username": "admin", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(setup.status, 201, "{setup:?}");
    let cookie = setup.header("set-cookie").expect("session cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    let again = anonymous.send_json(
        "POST",
        "/api/v1/setup",
        &json!({"code": setup_code(&appliance), "username": "evil", "password": ADMIN_PASSWORD}),
    );
    assert_eq!(again.status, 409, "setup works once");

    // Cookie-authenticated writes need the CSRF token.
    let token_req = json!({"name": "noc", "role": "viewer"});
    let no_csrf = browser.send_json("POST", "/api/v1/tokens", &token_req);
    assert_eq!(no_csrf.status, 403, "{no_csrf:?}");
    browser.csrf = setup.json()["csrf_token"].as_str().map(str::to_string);
    let created = browser.send_json("POST", "/api/v1/tokens", &token_req);
    assert_eq!(created.status, 201, "{created:?}");
    let viewer_token = created.json()["token"].as_str().expect("token").to_string();
    let listed = browser.get("/api/v1/tokens");
    assert_eq!(listed.status, 200);
    assert!(
        !listed.body.contains(&viewer_token[12..]),
        "a token is shown once only"
    );
    assert!(
        !listed.body.contains("sha256"),
        "hashes never leave: {}",
        listed.body
    );

    // Users of each role; the server enforces the roles.
    for (user, role) in [("olivia", "operator"), ("victor", "viewer")] {
        let r = browser.send_json(
            "POST",
            "/api/v1/users",
            &json!({"username": user, "password": ADMIN_PASSWORD, "role": role}),
        );
        assert_eq!(r.status, 201, "{r:?}");
        assert!(!r.body.contains("argon2"), "no hash in responses");
    }
    let users = browser.get("/api/v1/users");
    assert!(
        !users.body.contains("argon2") && !users.body.contains("password"),
        "{}",
        users.body
    );

    let mut viewer = d.client();
    assert_eq!(viewer.login("victor", ADMIN_PASSWORD).status, 200);
    assert_eq!(viewer.get("/api/v1/channels").status, 200);
    assert_eq!(
        viewer
            .request("POST", "/api/v1/channels/test/stop", None, &[])
            .status,
        403
    );
    let by_token = Client::with_token(&d.base(), &viewer_token);
    assert_eq!(by_token.get("/api/v1/status").status, 200);
    assert_eq!(
        by_token
            .request("POST", "/api/v1/channels/test/stop", None, &[])
            .status,
        403
    );

    let mut operator = d.client();
    assert_eq!(operator.login("olivia", ADMIN_PASSWORD).status, 200);
    let channel = operator.get("/api/v1/channels/test").json();
    assert_eq!(
        operator
            .send_json("PUT", "/api/v1/channels/test", &channel)
            .status,
        403,
        "config is admin-only"
    );
    assert_eq!(
        operator
            .request("POST", "/api/v1/channels/test/stop", None, &[])
            .status,
        204
    );
    assert_eq!(
        operator
            .request("POST", "/api/v1/channels/test/start", None, &[])
            .status,
        204
    );
    assert_eq!(
        operator.get("/api/v1/audit").status,
        403,
        "audit log is admin-only"
    );

    // Logout ends the session.
    assert_eq!(
        operator.request("POST", "/api/v1/logout", None, &[]).status,
        204
    );
    assert_eq!(operator.get("/api/v1/status").status, 401);

    // Five failed logins a minute from one address, then 429.
    let mut guesser = d.client();
    for _ in 0..5 {
        assert_eq!(guesser.login("admin", "wrong password!").status, 401);
    }
    let limited = guesser.login("admin", ADMIN_PASSWORD);
    assert_eq!(limited.status, 429, "{limited:?}");
    assert!(limited.header("retry-after").is_some());

    // Every change is in the audit log: who, what, from where.
    let audit = browser.get("/api/v1/audit").json();
    let entries = audit["entries"].as_array().expect("entries").clone();
    let find = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} in {entries:?}"))
            .clone()
    };
    assert_eq!(find("setup")["actor"], "admin");
    assert_eq!(find("token.create")["detail"], "noc (viewer)");
    assert_eq!(find("user.create")["source"], "127.0.0.1");
    assert_eq!(find("channel.stop")["actor"], "olivia");
    assert_eq!(find("channel.start")["target"], "channel/test");
}

#[test]
fn secrets_are_never_returned_and_placeholders_keep_them() {
    const PASSPHRASE: &str = "venue-secret-passphrase-1";
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let out = srt_output(
        "primary",
        "listener",
        port,
        &format!("passphrase = \"{PASSPHRASE}\"\nencryption = \"aes256\"\n"),
    );
    let d = deployment(dir.path(), true, &out);
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    for path in [
        "/api/v1/channels",
        "/api/v1/channels/test",
        "/api/v1/config",
        "/api/v1/status",
    ] {
        let r = admin.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert!(!r.body.contains(PASSPHRASE), "{path} leaks the passphrase");
    }
    let toml = admin.request("GET", "/api/v1/config", None, &["Accept: application/toml"]);
    assert!(
        toml.body.contains("passphrase = \"<redacted>\""),
        "{}",
        toml.body
    );

    // Writing back what was read keeps the stored passphrase.
    let channel = admin.get("/api/v1/channels/test").json();
    let mut changed = channel.clone();
    changed["ladder"][1]["bitrate_kbps"] = json!(500);
    let r = admin.send_json("PUT", "/api/v1/channels/test", &changed);
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.json()["restarted_channels"], json!(["test"]));
    // The audit entry says what changed, and only that: the kept passphrase is not a change.
    let audit = admin.get("/api/v1/audit?limit=1").json();
    let entry = &audit["entries"][0];
    assert_eq!(entry["action"], "channel.replace");
    assert_eq!(entry["actor"], "token:test-automation");
    assert_eq!(
        entry["detail"],
        "channels[0].ladder[1].bitrate_kbps: 400 → 500"
    );
    let with_secrets = admin.get("/api/v1/config?include_secrets=true");
    assert!(
        with_secrets.body.contains(PASSPHRASE),
        "admin asked for secrets explicitly"
    );
    assert!(
        appliance.log().lines().all(|l| !l.contains(PASSPHRASE)),
        "log leaks the passphrase"
    );
}

#[test]
fn bad_input_gets_a_4xx_naming_the_field_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = deployment(
        dir.path(),
        false,
        &srt_output("primary", "listener", free_port(), ""),
    );
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);
    let before = admin.get("/api/v1/config?include_secrets=true").body;
    let channel = admin.get("/api/v1/channels/test").json();

    let raw = |method: &str, path: &str, ct: &str, body: &[u8]| {
        admin.request(method, path, Some((ct, body)), &[])
    };
    let r = raw(
        "PUT",
        "/api/v1/channels/test",
        "application/json",
        b"{\"name\": ",
    );
    assert_eq!(r.status, 400, "malformed JSON: {r:?}");

    let mut wrong_type = channel.clone();
    wrong_type["ladder"][0]["width"] = json!("wide");
    let r = admin.send_json("PUT", "/api/v1/channels/test", &wrong_type);
    assert_eq!(
        (r.status, r.json()["fields"][0]["field"].clone()),
        (422, json!("ladder[0].width")),
        "{r:?}"
    );

    // Inside an output (a tagged table, which serde reads whole): the key, not the output.
    let mut wrong_type_in_output = channel.clone();
    wrong_type_in_output["outputs"][0]["latency_ms"] = json!("200");
    let r = admin.send_json("PUT", "/api/v1/channels/test", &wrong_type_in_output);
    assert_eq!(
        (r.status, r.json()["fields"][0]["field"].clone()),
        (422, json!("outputs[0].latency_ms")),
        "{r:?}"
    );
    let r = admin.request(
        "PATCH",
        "/api/v1/channels/test",
        Some((
            "application/merge-patch+json",
            br#"{"input": {"width": "wide"}}"#,
        )),
        &[],
    );
    assert_eq!(r.status, 422, "{r:?}");
    assert_eq!(r.json()["fields"][0]["field"], "input.width", "{r:?}");

    let mut unknown = channel.clone();
    unknown["ladder"][0]["bitrate"] = json!(1);
    let r = admin.send_json("PUT", "/api/v1/channels/test", &unknown);
    assert_eq!(r.status, 422, "{r:?}");
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap_or_default()
            .contains("bitrate"),
        "{r:?}"
    );

    let mut out_of_range = channel.clone();
    out_of_range["ladder"][1]["bitrate_kbps"] = json!(5);
    let r = admin.send_json("PUT", "/api/v1/channels/test", &out_of_range);
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["fields"][0]["field"], "ladder[1].bitrate_kbps");
    assert_eq!(
        r.json()["fields"][0]["message"],
        "must be between 100 and 100000"
    );

    let r = admin.request(
        "PATCH",
        "/api/v1/channels/test",
        Some((
            "application/merge-patch+json",
            br#"{"video": {"gop_frames": 0}}"#,
        )),
        &[],
    );
    assert_eq!(r.status, 422, "{r:?}");
    assert!(
        r.json()["fields"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .starts_with("video.gop_frames"),
        "{r:?}"
    );

    let r = raw(
        "PUT",
        "/api/v1/channels/test",
        "text/plain",
        channel.to_string().as_bytes(),
    );
    assert_eq!(r.status, 415, "wrong content type");
    let huge = vec![b' '; 300 * 1024];
    let r = raw("PUT", "/api/v1/channels/test", "application/json", &huge);
    assert_eq!(r.status, 413, "oversized body");
    assert_eq!(admin.get("/api/v1/channels/nope").status, 404);
    assert_eq!(
        admin
            .request("POST", "/api/v1/channels/nope/start", None, &[])
            .status,
        404
    );
    assert_eq!(
        admin
            .request("DELETE", "/api/v1/users/nobody", None, &[])
            .status,
        404
    );
    assert_eq!(admin.get("/api/v1/events?limit=many").status, 400);
    assert_eq!(
        raw(
            "PUT",
            "/api/v1/config",
            "application/toml",
            b"[[channels]]\nname = 3\n"
        )
        .status,
        422
    );

    assert_eq!(
        admin.get("/api/v1/config?include_secrets=true").body,
        before,
        "nothing changed"
    );
    assert!(wait_for_running(&admin, "test"), "the channel kept running");
}

fn wait_for_running(client: &Client, channel: &str) -> bool {
    for _ in 0..100 {
        let s = client.get("/api/v1/status").json();
        let running = s["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["name"] == channel && c["state"] == "running");
        if running {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn https_redirect_and_certificate_replacement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = deployment(
        dir.path(),
        true,
        &srt_output("primary", "listener", free_port(), ""),
    );
    let appliance = d.start();
    let (admin, _) = set_up_admin(&d, &appliance);

    let plain = Client::new(&format!("http://127.0.0.1:{}", d.ports.http));
    let r = plain.get("/api/v1/status?x=1");
    assert_eq!(r.status, 308, "{r:?}");
    assert_eq!(
        r.header("location").as_deref(),
        Some(format!("https://127.0.0.1:{}/api/v1/status?x=1", d.ports.https).as_str())
    );

    let info = admin.get("/api/v1/system/tls").json();
    assert_eq!(info["self_signed"], true);
    let served = |port: u16| -> String {
        let (_, text) = feedline_tests::api::run(std::process::Command::new("sh").arg("-c").arg(format!(
            "openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256"
        )));
        text.trim()
            .split('=')
            .nth(1)
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        served(d.ports.https),
        info["fingerprint_sha256"].as_str().unwrap_or_default()
    );

    // An operator's own certificate, made with openssl.
    let key = dir.path().join("own.key");
    let cert = dir.path().join("own.crt");
    let (ok, out) = feedline_tests::api::run(std::process::Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=venue-encoder",
        "-keyout",
        key.to_str().unwrap_or_default(),
        "-out",
        cert.to_str().unwrap_or_default(),
    ]));
    assert!(ok, "openssl: {out}");
    let cert_pem = std::fs::read_to_string(&cert).expect("cert");
    let key_pem = std::fs::read_to_string(&key).expect("key");

    let mismatched = admin.send_json(
        "PUT",
        "/api/v1/system/tls",
        &json!({"certificate_pem": cert_pem, "private_key_pem": std::fs::read_to_string(d.data_dir.join("tls/key.pem")).expect("key")}),
    );
    assert_eq!(mismatched.status, 422, "{mismatched:?}");
    assert_eq!(mismatched.json()["fields"][0]["field"], "private_key_pem");
    assert_eq!(
        served(d.ports.https),
        info["fingerprint_sha256"].as_str().unwrap_or_default(),
        "unchanged"
    );

    let r = admin.send_json(
        "PUT",
        "/api/v1/system/tls",
        &json!({"certificate_pem": cert_pem, "private_key_pem": key_pem}),
    );
    assert_eq!(r.status, 200, "{r:?}");
    let new_fp = r.json()["fingerprint_sha256"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_ne!(
        new_fp,
        info["fingerprint_sha256"].as_str().unwrap_or_default()
    );
    assert_eq!(
        served(d.ports.https),
        new_fp,
        "new connections get the uploaded certificate"
    );
    assert_eq!(admin.get("/api/v1/system/tls").json()["self_signed"], false);
}

//! `reflector serve --config CALICO --node NAME --secrets DIR`: a BGPPeer's
//! `password.secretKeyRef` is read from `DIR/<secret>/<key>` and used as the
//! session's TCP-MD5 key (a peer listening with that key gets a session); a
//! referenced Secret that is missing is an error naming it; an unknown field
//! is a warning naming it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;

mod support;
use support::{accept, tempdir, Daemon, Peer};

fn md5(fd: &impl AsRawFd, peer: Ipv4Addr, key: &[u8]) {
    let mut sig = [0u8; 216];
    sig[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
    sig[4..8].copy_from_slice(&peer.octets());
    sig[130..132].copy_from_slice(&(key.len() as u16).to_ne_bytes());
    sig[136..136 + key.len()].copy_from_slice(key);
    // SAFETY: `sig` is a live 216-byte struct tcp_md5sig.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_MD5SIG,
            sig.as_ptr().cast(),
            sig.len() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "TCP_MD5SIG: {}", std::io::Error::last_os_error());
}

fn resources(port: u16) -> String {
    format!(
        r#"apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  nodeToNodeMeshEnabled: false
  asNumber: 63400
  listenPort: {port}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: rr
  labels:
    route-reflector: "true"
spec:
  bgp:
    ipv4Address: 127.0.0.171/8
    routeReflectorClusterID: 10.255.7.1
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-a
spec:
  bgp:
    ipv4Address: 127.0.0.172/8
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-to-rrs
spec:
  nodeSelector: "!has(route-reflector)"
  peerSelector: has(route-reflector)
  password:
    secretKeyRef:
      name: bgp-secrets
      key: rr-password
  keepOrignalNextHop: true
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rr-mesh
spec:
  nodeSelector: has(route-reflector)
  peerSelector: has(route-reflector)
"#
    )
}

fn run(args: &[&str], log: &Path) -> Daemon {
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_reflector"))
            .arg("serve")
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap(),
    )
}

#[test]
fn secret_key_ref_is_the_md5_password_and_a_missing_one_is_an_error() {
    let dir = tempdir("calico-secrets");
    // node-a listens on the port every node uses; the reflector connects to it.
    let la = TcpListener::bind("127.0.0.172:0").unwrap();
    let port = la.local_addr().unwrap().port();
    md5(&la, Ipv4Addr::new(127, 0, 0, 171), b"from-the-secret");
    let cal = dir.join("calico");
    std::fs::create_dir_all(&cal).unwrap();
    std::fs::write(cal.join("cluster.yaml"), resources(port)).unwrap();
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(secrets.join("bgp-secrets")).unwrap();
    std::fs::write(secrets.join("bgp-secrets/rr-password"), "from-the-secret").unwrap();
    let listen = format!("127.0.0.171:{port}");
    let c = cal.to_str().unwrap();

    // No --secrets: refused, naming the Secret, its key and the BGPPeer.
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config", c, "--node", "rr", "--listen", &listen])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("BGPPeer/peer-to-rrs.spec.password.secretKeyRef")
            && err.contains("`bgp-secrets`")
            && err.contains("`rr-password`")
            && err.contains("--secrets"),
        "{err}"
    );
    // --secrets without that key: refused, naming the file it looked for.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--config", c, "--node", "rr", "--listen", &listen])
        .args(["--secrets", empty.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("empty/bgp-secrets/rr-password"), "{err}");

    // With the Secret: the session to node-a is signed with it and comes up.
    let log = dir.join("reflector.log");
    let mut daemon = run(
        &[
            "--config",
            c,
            "--node",
            "rr",
            "--listen",
            &listen,
            "--secrets",
            secrets.to_str().unwrap(),
            "--log",
            "debug",
        ],
        &log,
    );
    let mut a = Peer::new("node-a", accept(&la), 63400, Ipv4Addr::new(127, 0, 0, 172));
    a.until("Established", |p| p.s.state() == State::Established);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.lines().any(|l| l.contains("WARN")
            && l.contains("BGPPeer/peer-to-rrs")
            && l.contains("spec.keepOrignalNextHop")),
        "the misspelt field is a warning:\n{text}"
    );
    assert!(
        !text.contains("from-the-secret"),
        "the password is not logged"
    );
    assert!(Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while daemon.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

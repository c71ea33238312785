//! `reflector serve` session security on loopback: TCP-MD5 (RFC 2385) on the
//! daemon's outgoing connections (a listener with the same key gets a
//! session, one without a key never sees the connection), connections from
//! unknown addresses (closed at once, counted, logged once per source), and
//! the configuration's checks of `password`, `password_file` and GTSM.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reflector_core::session::State;

mod support;
use support::{accept, tempdir, Daemon, Peer};

const AS: u32 = 64512;

fn spawn(config: &str, dir: &std::path::Path) -> Daemon {
    let path = dir.join("reflector.toml");
    std::fs::write(&path, config).unwrap();
    Daemon(
        Command::new(env!("CARGO_BIN_EXE_reflector"))
            .args(["serve", "--config"])
            .arg(&path)
            .args(["--log", "debug"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("reflector.log")).unwrap())
            .spawn()
            .unwrap(),
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Set a TCP-MD5 key for `peer` on a socket (struct tcp_md5sig of linux/tcp.h).
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

fn log(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join("reflector.log")).unwrap_or_default()
}

fn sigterm(d: &mut Daemon) {
    assert!(Command::new("kill")
        .args(["-TERM", &d.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the daemon did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn md5_signed_connection_establishes_and_an_unkeyed_listener_never_sees_it() {
    let dir = tempdir("md5");
    let good = TcpListener::bind("127.0.0.161:0").unwrap();
    md5(&good, Ipv4Addr::LOCALHOST, b"s3cret-key");
    let bad = TcpListener::bind("127.0.0.162:0").unwrap();
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
listen = ["127.0.0.1:{port}"]
connect_retry = 1

[[peer]]
name = "good"
address = "127.0.0.161"
asn = {AS}
role = "client"
port = {pg}
local_address = "127.0.0.1"
password = "s3cret-key"

[[peer]]
name = "bad"
address = "127.0.0.162"
asn = {AS}
role = "client"
port = {pb}
local_address = "127.0.0.1"
password_file = "{pwfile}"
"#,
        port = free_port(),
        pg = good.local_addr().unwrap().port(),
        pb = bad.local_addr().unwrap().port(),
        pwfile = dir.join("bad.pw").display(),
    );
    std::fs::write(dir.join("bad.pw"), "other-key\n").unwrap();
    let mut daemon = spawn(&config, &dir);
    let mut p = Peer::new("good", accept(&good), AS, Ipv4Addr::new(10, 0, 0, 61));
    p.until("Established", |p| p.s.state() == State::Established);
    // The daemon signs every segment to 127.0.0.162 too; a listener without the
    // key drops them in the kernel, so it never has a connection to accept.
    bad.set_nonblocking(true).unwrap();
    // The daemon gives a connection attempt 5 s.
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        assert!(
            bad.accept().is_err(),
            "an unsigned listener accepted a signed connection"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(log(&dir).contains("connect timed out") || log(&dir).contains("connect failed"));
    sigterm(&mut daemon);
    assert!(
        !log(&dir).contains("s3cret"),
        "the password is never logged"
    );
}

#[test]
fn unknown_addresses_are_closed_counted_and_logged_once_per_source() {
    let dir = tempdir("unknown");
    let port = free_port();
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
listen = ["127.0.0.1:{port}"]

[[peer]]
address = "127.0.0.163"
asn = {AS}
role = "client"
passive = true
"#
    );
    let mut daemon = spawn(&config, &dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    while n < 20 {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            assert!(Instant::now() < deadline, "the daemon is not listening");
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        // Closed at once: EOF (or a reset) well before any BGP timer.
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let t = Instant::now();
        let mut b = [0u8; 64];
        match s.read(&mut b) {
            Ok(0) => {}
            Ok(k) => panic!("the daemon sent {k} bytes to an unknown address"),
            Err(e) => assert!(
                e.kind() == std::io::ErrorKind::ConnectionReset,
                "not closed: {e}"
            ),
        }
        assert!(t.elapsed() < Duration::from_secs(1));
        n += 1;
    }
    sigterm(&mut daemon);
    let text = log(&dir);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("not a configured peer"))
        .collect();
    assert_eq!(
        lines.len(),
        1,
        "one log line per source per minute: {lines:?}"
    );
    assert!(lines[0].contains("127.0.0.1"));
    assert!(
        text.contains("stopped unknown_connections=20"),
        "the counter: {}",
        text.lines().last().unwrap_or("")
    );
}

fn check_config(dir: &std::path::Path, peer: &str) -> (bool, String) {
    let path = dir.join("c.toml");
    std::fs::write(
        &path,
        format!(
            "router_id = \"10.0.0.1\"\nasn = 64512\n[[peer]]\naddress = \"127.0.0.2\"\nasn = 64512\nrole = \"client\"\n{peer}"
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_reflector"))
        .args(["serve", "--check-config"])
        .arg(&path)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn security_settings_are_checked_with_the_field_named() {
    let dir = tempdir("seccfg");
    assert!(check_config(&dir, "password = \"x\"\nttl_security = true\n").0);
    assert!(check_config(&dir, "gtsm_hops = 3\n").0);
    let long = "k".repeat(81);
    let (ok, err) = check_config(&dir, &format!("password = \"{long}\"\n"));
    assert!(
        !ok && err.contains("peer[0].password") && err.contains("1 to 80 bytes"),
        "{err}"
    );
    assert!(!err.contains(&long), "the password is not echoed");
    let (ok, err) = check_config(&dir, "password = \"a\"\npassword_file = \"/x\"\n");
    assert!(!ok && err.contains("peer[0].password_file"), "{err}");
    let (ok, err) = check_config(&dir, "password_file = \"/nonexistent/pw\"\n");
    assert!(
        !ok && err.contains("peer[0].password_file") && err.contains("/nonexistent/pw"),
        "{err}"
    );
    let (ok, err) = check_config(&dir, "gtsm_hops = 0\n");
    assert!(!ok && err.contains("peer[0].gtsm_hops"), "{err}");
    let (ok, err) = check_config(&dir, "ttl_security = false\ngtsm_hops = 2\n");
    assert!(!ok && err.contains("peer[0].gtsm_hops"), "{err}");
}

/// A TCP connection from `src` to `dst` (IPv4), signed with `key` when
/// given; `None` when it does not connect within two seconds.
fn connect_from(
    src: Ipv4Addr,
    dst: std::net::SocketAddrV4,
    key: Option<&[u8]>,
) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // sockaddr_in and timeval are live for each call.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0);
        let s = TcpStream::from_raw_fd(fd);
        if let Some(k) = key {
            md5(&s, *dst.ip(), k);
        }
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let sin = |a: Ipv4Addr, port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from_ne_bytes(a.octets()),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let local = sin(src, 0);
        assert_eq!(
            libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len),
            0
        );
        let remote = sin(*dst.ip(), dst.port());
        if libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len) != 0 {
            return None;
        }
        s.set_read_timeout(None).unwrap();
        Some(s)
    }
}

#[test]
fn md5_listener_keys_follow_a_reload() {
    let dir = tempdir("md5-reload");
    let port = free_port();
    let conf = |pw: &str| {
        format!(
            "router_id = \"10.255.0.1\"\nasn = {AS}\nlisten = [\"127.0.0.1:{port}\"]\n\n[[peer]]\nname = \"x\"\naddress = \"127.0.0.164\"\nasn = {AS}\nrole = \"client\"\npassive = true\n{pw}"
        )
    };
    let mut daemon = spawn(&conf("password = \"key-one\"\n"), &dir);
    let src = Ipv4Addr::new(127, 0, 0, 164);
    let dst = std::net::SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log(&dir).contains("reflector listening") {
        assert!(Instant::now() < deadline, "not listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        connect_from(src, dst, None).is_none(),
        "unsigned SYN dropped"
    );
    assert!(
        connect_from(src, dst, Some(b"key-two")).is_none(),
        "wrong key dropped"
    );
    let s = connect_from(src, dst, Some(b"key-one")).expect("signed with the key");
    let mut p = Peer::new("x", s, AS, Ipv4Addr::new(10, 0, 0, 64));
    p.until("Established", |p| p.s.state() == State::Established);

    // SIGHUP with a new key: the session restarts and the listener has the new key only.
    std::fs::write(dir.join("reflector.toml"), conf("password = \"key-two\"\n")).unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &daemon.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    p.until("Cease, Other Configuration Change", |p| {
        p.notifications.iter().any(|n| (n.0, n.1) == (6, 6))
    });
    drop(p);
    assert!(
        connect_from(src, dst, Some(b"key-one")).is_none(),
        "the old key is gone"
    );
    let s = connect_from(src, dst, Some(b"key-two")).expect("the new key");
    let mut p = Peer::new("x", s, AS, Ipv4Addr::new(10, 0, 0, 64));
    p.until("Established again", |p| p.s.state() == State::Established);

    // SIGHUP without a password: the key is deleted, an unsigned connection works.
    std::fs::write(dir.join("reflector.toml"), conf("")).unwrap();
    assert!(Command::new("kill")
        .args(["-HUP", &daemon.0.id().to_string()])
        .status()
        .unwrap()
        .success());
    p.until("Cease again", |p| !p.notifications.is_empty());
    drop(p);
    let s = connect_from(src, dst, None).expect("no key any more");
    let mut p = Peer::new("x", s, AS, Ipv4Addr::new(10, 0, 0, 64));
    p.until("Established unsigned", |p| {
        p.s.state() == State::Established
    });
    sigterm(&mut daemon);
}

/// Set a TCP-MD5 key for an IPv6 `peer` on an IPv6 socket.
fn md5_v6(fd: &impl AsRawFd, peer: std::net::Ipv6Addr, key: &[u8]) {
    let mut sig = [0u8; 216];
    sig[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
    sig[8..24].copy_from_slice(&peer.octets());
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

#[test]
fn md5_over_ipv6() {
    let dir = tempdir("md5-v6");
    let Ok(l) = TcpListener::bind("[::1]:0") else {
        eprintln!("no IPv6 loopback here: skipped");
        return;
    };
    md5_v6(&l, std::net::Ipv6Addr::LOCALHOST, b"v6-key");
    let config = format!(
        r#"router_id = "10.255.0.1"
asn = {AS}
listen = ["[::1]:{port}"]
connect_retry = 1

[[peer]]
name = "six"
address = "::1"
asn = {AS}
role = "client"
port = {pl}
local_address = "::1"
password = "v6-key"
"#,
        port = free_port(),
        pl = l.local_addr().unwrap().port(),
    );
    let mut daemon = spawn(&config, &dir);
    let mut p = Peer::new("six", accept(&l), AS, Ipv4Addr::new(10, 0, 0, 66));
    p.until("Established over IPv6", |p| {
        p.s.state() == State::Established
    });
    sigterm(&mut daemon);
}

/// A TCP connection to `dst` (IPv4 or IPv6) sent with this TTL / hop limit;
/// `None` when it does not connect within two seconds.
fn connect_with_ttl(dst: std::net::SocketAddr, ttl: i32) -> Option<TcpStream> {
    use std::os::fd::FromRawFd;
    let v6 = dst.is_ipv6();
    // SAFETY: plain socket calls on a descriptor this function owns; every
    // pointer passed is to a live local of the size given.
    unsafe {
        let fd = libc::socket(
            if v6 { libc::AF_INET6 } else { libc::AF_INET },
            libc::SOCK_STREAM,
            0,
        );
        assert!(fd >= 0);
        let s = TcpStream::from_raw_fd(fd);
        let int = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let (level, name) = if v6 {
            (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS)
        } else {
            (libc::IPPROTO_IP, libc::IP_TTL)
        };
        assert_eq!(
            libc::setsockopt(fd, level, name, (&ttl as *const i32).cast(), int),
            0
        );
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let r = match dst {
            std::net::SocketAddr::V4(a) => {
                let sin = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: a.port().to_be(),
                    sin_addr: libc::in_addr {
                        s_addr: u32::from_ne_bytes(a.ip().octets()),
                    },
                    sin_zero: [0; 8],
                };
                libc::connect(
                    fd,
                    (&sin as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
            std::net::SocketAddr::V6(a) => {
                let mut sin6: libc::sockaddr_in6 = std::mem::zeroed();
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                libc::connect(
                    fd,
                    (&sin6 as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        };
        (r == 0).then_some(s)
    }
}

#[test]
fn gtsm_drops_low_ttl_from_the_first_syn_over_ipv4_and_ipv6() {
    let dir = tempdir("gtsm");
    let (p4, p6) = (free_port(), free_port());
    let v6 = TcpListener::bind("[::1]:0").is_ok();
    let mut config = format!(
        "router_id = \"10.255.0.1\"\nasn = {AS}\nlisten = [\"127.0.0.1:{p4}\"{}]\n\n[[peer]]\nname = \"g4\"\naddress = \"127.0.0.1\"\nasn = {AS}\nrole = \"client\"\npassive = true\nttl_security = true\n",
        if v6 { format!(", \"[::1]:{p6}\"") } else { String::new() }
    );
    if v6 {
        config.push_str(&format!(
            "\n[[peer]]\nname = \"g6\"\naddress = \"::1\"\nasn = {AS}\nrole = \"client\"\npassive = true\ngtsm_hops = 2\n"
        ));
    }
    let mut daemon = spawn(&config, &dir);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log(&dir).contains("reflector listening") {
        assert!(Instant::now() < deadline, "not listening");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut cases = vec![(std::net::SocketAddr::from(([127, 0, 0, 1], p4)), 255, 254)];
    if v6 {
        // Two hops allowed: 254 passes, 253 does not.
        cases.push((format!("[::1]:{p6}").parse().unwrap(), 254, 253));
    } else {
        eprintln!("no IPv6 loopback here: IPv4 only");
    }
    for (dst, ok_ttl, low_ttl) in cases {
        assert!(
            connect_with_ttl(dst, 64).is_none(),
            "{dst}: a TTL of 64 must not even get a SYN-ACK"
        );
        assert!(
            connect_with_ttl(dst, low_ttl).is_none(),
            "{dst}: TTL {low_ttl} is one hop too far"
        );
        let s = connect_with_ttl(dst, ok_ttl).expect("the right TTL connects");
        let mut p = Peer::new("gtsm", s, AS, Ipv4Addr::new(10, 0, 0, 67));
        p.until("Established with GTSM", |p| {
            p.s.state() == State::Established
        });
    }
    sigterm(&mut daemon);
}

//! Packaging for operators: the man pages and shell completion scripts the
//! binary generates from its own clap definitions, and the example systemd
//! unit in examples/systemd/.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_reflector");

fn run(args: &[&str]) -> Output {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run reflector");
    assert!(
        out.status.success(),
        "reflector {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fresh, empty directory under the system temp dir.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("reflector-packaging-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn manual_writes_a_roff_page_per_command() {
    let dir = tempdir("man");
    // A directory that does not exist yet is created.
    let out_dir = dir.join("man1");
    let out = run(&["manual", "--out", out_dir.to_str().unwrap()]);
    let listed = String::from_utf8(out.stdout).unwrap();

    let pages = [
        "reflector.1",
        "reflector-serve.1",
        "reflector-mrt.1",
        "reflector-simulate.1",
        "reflector-show.1",
        "reflector-show-summary.1",
        "reflector-show-neighbor.1",
        "reflector-show-route.1",
        "reflector-show-adj-in.1",
        "reflector-show-adj-out.1",
        "reflector-show-memory.1",
        "reflector-ctl.1",
        "reflector-ctl-reset.1",
        "reflector-ctl-refresh.1",
        "reflector-ctl-disable.1",
        "reflector-ctl-enable.1",
        "reflector-ctl-reload.1",
        "reflector-ctl-shutdown.1",
    ];
    for page in pages {
        let path = out_dir.join(page);
        assert!(path.is_file(), "{} missing", path.display());
        assert!(
            listed.contains(path.to_str().unwrap()),
            "{page} not listed: {listed}"
        );
        let text = read(&path);
        assert!(
            text.starts_with(".TH") || text.starts_with(".ie") || text.starts_with(".\\\""),
            "{page} is not roff: {}",
            &text[..text.len().min(80)]
        );
        assert!(text.contains("\n.TH "), "{page} has no .TH title");
        assert!(text.contains(".SH NAME"), "{page} has no NAME section");
    }
    // Only those pages: the hidden packaging commands have none.
    let mut found: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    found.sort();
    let mut expected: Vec<String> = pages.iter().map(|p| p.to_string()).collect();
    expected.sort();
    assert_eq!(found, expected);

    // The top page names every subcommand.
    let top = read(&out_dir.join("reflector.1"));
    for sub in ["serve", "mrt", "simulate"] {
        assert!(top.contains(sub), "reflector.1 does not name {sub}");
    }
    // Real flags, in roff's escaped form (\- for -).
    let serve = read(&out_dir.join("reflector-serve.1"));
    for flag in ["config", "check\\-config", "listen", "log\\-format"] {
        assert!(
            serve.contains(&format!("\\-\\-{flag}")),
            "serve page lacks --{flag}"
        );
    }
    let mrt = read(&out_dir.join("reflector-mrt.1"));
    for flag in ["elements", "prefix"] {
        assert!(
            mrt.contains(&format!("\\-\\-{flag}")),
            "mrt page lacks --{flag}"
        );
    }
    let simulate = read(&out_dir.join("reflector-simulate.1"));
    assert!(
        simulate.contains("\\-\\-nodes"),
        "simulate page lacks --nodes"
    );

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn packaging_commands_are_hidden_from_the_main_help() {
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    assert!(help.contains("serve"));
    assert!(!help.contains("manual"), "{help}");
    assert!(!help.contains("completions"), "{help}");
    // ...but documented in their own help.
    let help = String::from_utf8(run(&["manual", "--help"]).stdout).unwrap();
    assert!(help.contains("--out"), "{help}");
    let help = String::from_utf8(run(&["completions", "--help"]).stdout).unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(help.contains(shell), "{help}");
    }
}

#[test]
fn completions_for_every_shell_name_the_subcommands_and_flags() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = String::from_utf8(run(&["completions", shell]).stdout).unwrap();
        for word in ["serve", "mrt", "simulate"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
        for flag in ["config", "check-config", "elements"] {
            // fish spells a long option `-l NAME`, the others `--NAME`.
            let word = if shell == "fish" {
                format!("-l {flag}")
            } else {
                format!("--{flag}")
            };
            assert!(script.contains(&word), "{shell} completion lacks {word}");
        }
    }
    let out = Command::new(BIN)
        .args(["completions", "tcsh"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unknown shell is refused");
}

#[test]
fn bash_completion_script_is_valid_bash() {
    if Command::new("bash").arg("--version").output().is_err() {
        eprintln!("bash not available: skipping bash -n");
        return;
    }
    let dir = tempdir("bash");
    let script = dir.join("reflector.bash");
    std::fs::write(&script, run(&["completions", "bash"]).stdout).unwrap();
    let out = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn systemd_unit_has_the_service_and_hardening_keys() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/systemd/reflector.service");
    let text = read(&path);

    // INI-ish: every meaningful line is a [Section] or a Key=Value.
    let mut section = String::new();
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            section = line[1..line.len() - 1].to_string();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not a key=value line: {line}"));
        assert!(!section.is_empty(), "{k} outside a section");
        keys.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
    }
    let sections: Vec<&str> = keys.iter().map(|(s, _, _)| s.as_str()).collect();
    for s in ["Unit", "Service", "Install"] {
        assert!(sections.contains(&s), "no [{s}] section");
    }
    let service = |key: &str| -> Vec<&str> {
        keys.iter()
            .filter(|(s, k, _)| s == "Service" && k == key)
            .map(|(_, _, v)| v.as_str())
            .collect()
    };
    let one = |key: &str| -> String {
        let v = service(key);
        assert_eq!(v.len(), 1, "[Service] {key}: {v:?}");
        v[0].to_string()
    };

    let start = one("ExecStart");
    assert!(
        start.ends_with("reflector serve --config /etc/reflector/reflector.toml"),
        "{start}"
    );
    let pre = one("ExecStartPre");
    assert!(
        pre.ends_with("reflector serve --check-config /etc/reflector/reflector.toml"),
        "{pre}"
    );
    assert_eq!(one("ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(one("Restart"), "on-failure");
    assert!(
        one("DynamicUser") == "yes" || !service("User").is_empty(),
        "neither DynamicUser=yes nor User="
    );
    for key in [
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "RestrictNamespaces",
        "LockPersonality",
        "MemoryDenyWriteExecute",
    ] {
        assert_eq!(one(key), "yes", "{key}");
    }
    assert_eq!(one("ProtectSystem"), "strict");
    assert_eq!(one("RestrictAddressFamilies"), "AF_INET AF_INET6 AF_UNIX");
    assert_eq!(one("SystemCallFilter"), "@system-service");
    assert_eq!(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
    assert_eq!(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");

    // The flags the unit uses exist in this binary.
    let help = String::from_utf8(run(&["serve", "--help"]).stdout).unwrap();
    assert!(
        help.contains("--config") && help.contains("--check-config"),
        "{help}"
    );
}

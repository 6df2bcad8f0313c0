//! Shared test support: the real control plane that the test command started (see `scripts/test` and
//! `scripts/dev-cluster`), driven through the real `kubectl` built from `tests/controlplane/`.
#![allow(dead_code)]

pub mod controller;
pub mod http;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The repository root.
pub fn repo_root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A handle on the test control plane.
pub struct Cluster {
    kubeconfig: String,
}

impl Cluster {
    /// The control plane named by `KUBECONFIG`. Panics with a hint when the tests run outside
    /// `scripts/test`, which starts one.
    pub fn from_env() -> Self {
        let kubeconfig = std::env::var("KUBECONFIG").unwrap_or_default();
        assert!(
            !kubeconfig.is_empty() && std::path::Path::new(&kubeconfig).exists(),
            "KUBECONFIG must point at the test control plane: run the tests with scripts/test, \
             or `eval \"$(scripts/dev-cluster up)\"` first"
        );
        Self { kubeconfig }
    }

    /// The kubeconfig file of the admin user.
    pub fn kubeconfig_path(&self) -> &str {
        &self.kubeconfig
    }

    /// Runs kubectl with the given arguments and optional stdin.
    pub fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl on PATH (scripts/test puts the pinned build first)");
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(stdin.unwrap_or("").as_bytes())
            .expect("write stdin");
        drop(pipe);
        child.wait_with_output().expect("kubectl output")
    }

    /// Runs kubectl and panics unless it succeeds; returns stdout.
    pub fn kubectl_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl(args, stdin);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Installs the checked-in CRDs once per test process and waits until they are Established.
    pub fn install_crds(&self) {
        static INSTALLED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
        INSTALLED.get_or_init(|| {
            let dir = repo_root().join("crds");
            self.kubectl_ok(
                &[
                    "apply",
                    "--server-side",
                    "--force-conflicts",
                    "-f",
                    dir.to_str().expect("utf8"),
                ],
                None,
            );
            // NB: right after a create, a CRD may have no conditions yet and `kubectl wait` fails
            // instead of waiting, so retry until it succeeds.
            let start = std::time::Instant::now();
            loop {
                let out = self.kubectl(
                    &[
                        "wait",
                        "--for=condition=Established",
                        "--timeout=30s",
                        "crd/expressservices.runway.dev",
                        "crd/apprunnerservices.runway.dev",
                    ],
                    None,
                );
                if out.status.success() {
                    break;
                }
                assert!(
                    start.elapsed() < std::time::Duration::from_secs(60),
                    "CRDs not Established: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        });
    }

    /// Creates a fresh namespace whose name starts with `prefix`, and returns its name.
    pub fn namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "{prefix}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.kubectl_ok(&["create", "namespace", &name], None);
        name
    }
}

//! The container image, built for real: `scripts/image` writes the OCI archive (a static musl release
//! build, so the first run takes minutes; later runs reuse `target/image/cargo`), the tests measure
//! and unpack it, and then run the controller from its root filesystem under `chroot` as the image's
//! user, against the test control plane and an AWS simulator, until an ExpressService is Ready.
//!
//! Building the image (`chown`, `apt-get`) and `chroot` need root, which `.ci/run` gives CI: without
//! root the tests fail, they never skip. The scratch directory `target/image/test/` (the archive, the
//! unpacked image and `scripts-image.log`) is kept for inspection and replaced on the next run.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::controller::{Env, Options, eventually};
use support::repo_root;

/// The most the compressed image (manifest, config and layer blobs as a registry stores them) may
/// weigh, in bytes.
const MAX_COMPRESSED_BYTES: u64 = 30_000_000;
/// The image's user and group.
const NONROOT: u32 = 65532;

/// The image `scripts/image` built once for this test process, unpacked.
struct Image {
    /// The scratch directory.
    dir: PathBuf,
    /// The unpacked root filesystem.
    rootfs: PathBuf,
    /// The image config (`config` of the OCI image configuration: User, Entrypoint, Cmd, Env...).
    config: Value,
    /// The whole image configuration blob.
    image_config: Value,
    /// Bytes of the manifest, the config and the compressed layers.
    compressed_bytes: u64,
    /// Media types of the layers.
    layer_media_types: Vec<String>,
}

/// The image, built, extracted and unpacked once for both tests.
fn image() -> &'static Image {
    // NB: a failed build is kept too, so that the second test fails with its message instead of
    // building again for minutes.
    static IMAGE: OnceLock<Result<Image, String>> = OnceLock::new();
    IMAGE
        .get_or_init(|| {
            std::panic::catch_unwind(build_and_unpack).map_err(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            })
        })
        .as_ref()
        .unwrap_or_else(|e| panic!("the image was not built: {e}"))
}

/// Runs `scripts/image`, extracts the archive and unpacks its root filesystem.
fn build_and_unpack() -> Image {
    assert_eq!(
        effective_uid(),
        0,
        "tests/image.rs builds the image (chown, apt-get) and runs it under chroot: run the \
         tests as root, as CI does (.ci/run)"
    );
    let dir = repo_root().join("target/image/test");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove the previous scratch directory");
    }
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let archive = dir.join("runway.oci.tar");
    build(&archive, &dir.join("scripts-image.log"));
    let layout = dir.join("layout");
    std::fs::create_dir_all(&layout).expect("layout directory");
    run_ok(
        Command::new("tar")
            .arg("-xf")
            .arg(&archive)
            .arg("-C")
            .arg(&layout),
    );
    let (tag, manifest) = read_index(&layout);
    let blob_bytes = |desc: &Value| {
        let size = desc["size"].as_u64().expect("descriptor size");
        assert_eq!(
            blob(&layout, desc).metadata().expect("blob").len(),
            size,
            "{desc}"
        );
        size
    };
    let manifest_json: Value = serde_json::from_slice(&read(&blob(&layout, &manifest))).expect("manifest");
    let layers = manifest_json["layers"].as_array().expect("layers");
    let compressed_bytes = blob_bytes(&manifest)
        + blob_bytes(&manifest_json["config"])
        + layers.iter().map(blob_bytes).sum::<u64>();
    let image_config: Value =
        serde_json::from_slice(&read(&blob(&layout, &manifest_json["config"]))).expect("image config");
    let bundle = dir.join("bundle");
    run_ok(
        Command::new("umoci")
            .args(["unpack", "--image"])
            .arg(format!("{}:{tag}", layout.display()))
            .arg(&bundle),
    );
    Image {
        rootfs: bundle.join("rootfs"),
        config: image_config["config"].clone(),
        image_config,
        compressed_bytes,
        layer_media_types: layers
            .iter()
            .map(|l| l["mediaType"].as_str().unwrap_or_default().to_string())
            .collect(),
        dir,
    }
}

/// Runs `scripts/image --output ARCHIVE`, its log in `log`, and prints how long it took and what it
/// wrote.
fn build(archive: &Path, log: &Path) {
    let start = Instant::now();
    let file = std::fs::File::create(log).expect("scripts/image log");
    let mut cmd = Command::new(repo_root().join("scripts/image"));
    cmd.arg("--output")
        .arg(archive)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .stderr(file);
    // NB: `cargo test` gives this process the variables it sets for a crate (CARGO_MANIFEST_DIR,
    // CARGO_PKG_*...). The build scripts of some dependencies (ring) rerun when one of them changes,
    // so the image's build, inheriting them, would rebuild everything after each `scripts/image` run
    // from a shell, and the other way round.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name == "CARGO" || name == "OUT_DIR" || cargo_crate_variable(&name) {
            cmd.env_remove(&*name);
        }
    }
    let out = cmd.output().expect("scripts/image runs");
    let stderr = String::from_utf8_lossy(&read(log)).into_owned();
    let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
    assert!(
        out.status.success(),
        "scripts/image failed ({}); the end of its log ({}):\n{}",
        out.status,
        log.display(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    println!(
        "scripts/image took {:.0} s: {} digest {}",
        start.elapsed().as_secs_f64(),
        stderr.lines().last().unwrap_or_default(),
        String::from_utf8_lossy(&out.stdout).trim()
    );
}

/// Whether `name` is one of the variables cargo sets for the crate it builds or tests.
fn cargo_crate_variable(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

/// The tag and the manifest descriptor of the layout's one image.
fn read_index(layout: &Path) -> (String, Value) {
    let index: Value = serde_json::from_slice(&read(&layout.join("index.json"))).expect("index.json");
    let manifests = index["manifests"].as_array().expect("index manifests");
    assert_eq!(manifests.len(), 1, "one image in the archive: {index}");
    let manifest = manifests[0].clone();
    let tag = manifest["annotations"]["org.opencontainers.image.ref.name"]
        .as_str()
        .expect("the image is tagged")
        .to_string();
    (tag, manifest)
}

/// The path of the blob a descriptor names.
fn blob(layout: &Path, desc: &Value) -> PathBuf {
    let digest = desc["digest"].as_str().expect("descriptor digest");
    let (algorithm, hex) = digest.split_once(':').expect("algorithm:hex digest");
    layout.join("blobs").join(algorithm).join(hex)
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Runs a command and panics with its output unless it succeeds.
fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// This process's effective user ID, from /proc.
fn effective_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .expect("Uid line in /proc/self/status")
}

/// The ELF interpreter (dynamic loader) that a 64-bit little-endian ELF executable asks for in its
/// PT_INTERP program header, or `None` for a static executable.
fn elf_interpreter(path: &Path) -> Option<String> {
    const PT_INTERP: u32 = 3;
    let elf = read(path);
    assert!(
        elf.len() > 64 && elf[..4] == *b"\x7fELF" && elf[4] == 2 && elf[5] == 1,
        "{} is not a 64-bit little-endian ELF file",
        path.display()
    );
    let u16_at = |at: usize| u16::from_le_bytes(elf[at..at + 2].try_into().expect("2 bytes")) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().expect("8 bytes")) as usize;
    let e_type = u16_at(0x10);
    assert!(
        e_type == 2 || e_type == 3,
        "{} is not an executable (e_type {e_type})",
        path.display()
    );
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    (0..phnum).find_map(|i| {
        let header = phoff + i * phentsize;
        let p_type = u32::from_le_bytes(elf[header..header + 4].try_into().expect("4 bytes"));
        (p_type == PT_INTERP).then(|| {
            let (offset, size) = (u64_at(header + 0x08), u64_at(header + 0x20));
            String::from_utf8_lossy(&elf[offset..offset + size])
                .trim_end_matches('\0')
                .to_string()
        })
    })
}

#[test]
fn image_is_small_static_with_a_ca_bundle_and_a_nonroot_user() {
    let image = image();
    println!(
        "compressed image size (manifest + config + gzip layer blobs): {} bytes ({:.1} MB), limit {} bytes",
        image.compressed_bytes,
        image.compressed_bytes as f64 / 1e6,
        MAX_COMPRESSED_BYTES
    );
    assert!(
        image.compressed_bytes <= MAX_COMPRESSED_BYTES,
        "the compressed image weighs {} bytes, over {MAX_COMPRESSED_BYTES}",
        image.compressed_bytes
    );
    assert_eq!(
        image.layer_media_types,
        ["application/vnd.oci.image.layer.v1.tar+gzip"],
        "one gzip layer"
    );

    // What a runtime starts: the image's user, entrypoint and command.
    let config = &image.config;
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["Entrypoint"], json!(["/runway"]));
    assert_eq!(config["Cmd"], json!(["run"]));
    assert!(
        config["Env"]
            .as_array()
            .is_some_and(|env| env.contains(&json!("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"))),
        "{config}"
    );
    assert_eq!(image.image_config["os"], "linux");

    // FROM scratch: the binary, its CA bundle and its user, no shell and no libc.
    let rootfs = &image.rootfs;
    for absent in ["bin", "lib", "usr", "sbin"] {
        assert!(!rootfs.join(absent).exists(), "the image has /{absent}");
    }
    let binary = rootfs.join("runway");
    let meta = binary.metadata().expect("/runway in the image");
    assert!(meta.permissions().mode() & 0o111 != 0, "/runway is executable");
    assert_eq!(
        elf_interpreter(&binary),
        None,
        "/runway asks for a dynamic loader, and the image has none"
    );
    // NB: the check tells the two apart: the test build of runway (glibc) asks for its loader.
    assert!(
        elf_interpreter(Path::new(env!("CARGO_BIN_EXE_runway"))).is_some_and(|i| i.contains("ld-")),
        "the ELF check did not find the glibc build's interpreter"
    );

    let bundle =
        String::from_utf8(read(&rootfs.join("etc/ssl/certs/ca-certificates.crt"))).expect("PEM is text");
    let begins = bundle.matches("-----BEGIN CERTIFICATE-----\n").count();
    let ends = bundle.matches("-----END CERTIFICATE-----\n").count();
    assert!(
        begins >= 100 && begins == ends,
        "the CA bundle holds {begins} PEM certificates ({ends} ends), not Mozilla's ~140"
    );

    let passwd = String::from_utf8(read(&rootfs.join("etc/passwd"))).expect("passwd is text");
    assert!(
        passwd
            .lines()
            .any(|l| l.split(':').nth(2) == Some("65532") && l.split(':').nth(3) == Some("65532")),
        "/etc/passwd names no user 65532:\n{passwd}"
    );
    let home = rootfs.join("home/nonroot").metadata().expect("/home/nonroot");
    assert_eq!((home.uid(), home.gid()), (NONROOT, NONROOT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_from_the_image_makes_an_expressservice_ready() {
    let image = image();
    let env = Env::new("image", "expressservice").await;

    // The kubeconfig goes into the image's root filesystem, readable by its user only, with its
    // certificates and token inline.
    let kubeconfig = env
        .cluster
        .kubectl_ok(&["config", "view", "--raw", "--flatten", "--minify"], None);
    let inside = format!("/home/nonroot/kubeconfig-{}", env.ns);
    let outside = image.rootfs.join(inside.trim_start_matches('/'));
    std::fs::write(&outside, kubeconfig).expect("kubeconfig in the rootfs");
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&outside, Some(NONROOT), Some(NONROOT)).expect("chown");

    // The image's entrypoint and command under chroot as its user, with its environment (and HOME
    // from its /etc/passwd, as container runtimes set it).
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|s| s.as_str().expect("string").to_string())
            .collect()
    };
    let mut program = vec![
        "chroot".to_string(),
        format!("--userspec={}", image.config["User"].as_str().expect("User")),
        image.rootfs.to_string_lossy().into_owned(),
    ];
    program.extend(strings(&image.config["Entrypoint"]));
    program.extend(strings(&image.config["Cmd"]));
    let mut vars: Vec<(String, String)> = strings(&image.config["Env"])
        .iter()
        .filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    vars.push(("HOME".into(), "/home/nonroot".into()));
    let mut runway = env.runway_with(Options {
        program: Some(program),
        kubeconfig: Some(PathBuf::from(&inside)),
        env: vars,
        args: vec![
            "--leader-election".into(),
            "--lease-namespace".into(),
            env.ns.clone(),
        ],
        ..Options::default()
    });

    // It is the image's binary, confined to its root filesystem, as user 65532.
    let proc = PathBuf::from(format!("/proc/{}", runway.pid()));
    eventually(Duration::from_secs(10), "runway exec'd from the rootfs", || {
        (std::fs::read_link(proc.join("exe")).ok()? == image.rootfs.join("runway")).then_some(())
    });
    assert_eq!(std::fs::read_link(proc.join("root")).expect("root"), image.rootfs);
    let status = std::fs::read_to_string(proc.join("status")).expect("status");
    let uids = status.lines().find(|l| l.starts_with("Uid:")).expect("Uid");
    assert_eq!(
        uids.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["65532"; 4],
        "{uids}"
    );

    let manifest = json!({
        "apiVersion": "runway.dev/v1alpha1",
        "kind": "ExpressService",
        "metadata": {"name": "web"},
        "spec": {
            "infrastructureRoleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
            "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "primaryContainer": {"image": "public.ecr.aws/nginx/nginx:1.27", "containerPort": 8080}
        }
    });
    env.cluster.apply(&env.ns, &manifest);
    let ready = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| env.wait_ready("web")))
        .unwrap_or_else(|_| {
            panic!(
                "not Ready; runway's log ({}):\n{}",
                runway.log.display(),
                runway.log_tail()
            )
        });
    assert!(
        ready["status"]["endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with(".on.aws")),
        "{ready}"
    );
    assert_eq!(env.sim.stats().outcome("ecs:CreateExpressGatewayService:ok"), 1);
    let lease = env
        .cluster
        .get_json("lease", &env.ns, "runway-leader")
        .expect("the leader Lease");
    assert!(lease["spec"]["holderIdentity"].is_string(), "{lease}");

    runway.kill();
    let _ = std::fs::remove_file(&outside);
    println!("scratch directory: {}", image.dir.display());
}

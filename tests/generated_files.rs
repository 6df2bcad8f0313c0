//! Generated files stay in step with the code that generates them.

use std::path::PathBuf;

#[test]
fn crds_dir_matches_runway_crds_output() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("crds");
    let mut expected_files = Vec::new();
    for crd in runway::api::crds() {
        let name = runway::api::crd_file_name(&crd);
        let want = runway::api::crd_yaml(&crd).expect("render CRD");
        let have = std::fs::read_to_string(dir.join(&name)).unwrap_or_default();
        assert!(
            have == want,
            "crds/{name} is stale; regenerate with `cargo run -- crds --out-dir crds`"
        );
        expected_files.push(name);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .expect("crds/ exists")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    expected_files.sort();
    assert_eq!(
        present, expected_files,
        "crds/ holds files that runway crds does not generate"
    );
}

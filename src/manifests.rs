//! Reading manifests for the commands that take them (`runway migrate apprunner -f`,
//! `runway diff -f`): a file or standard input, split into its YAML documents.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// The text of a manifest file, of every `.yaml`, `.yml` and `.json` file in a directory (in name
/// order, as `kubectl apply -f DIR` reads them), or of standard input for `-`.
pub fn read(path: &Path) -> Result<String> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        })?;
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .and_then(|x| x.to_str())
                        .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
            })
            .collect();
        files.sort();
        let texts = files.iter().map(|f| read(f)).collect::<Result<Vec<_>>>()?;
        return Ok(texts.join("\n---\n"));
    }
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| Error::Io {
                context: "reading standard input".into(),
                source,
            })?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        context: format!("reading {}", path.display()),
        source,
    })
}

/// The documents of a multi-document YAML (or JSON) text, empty ones left out.
pub fn documents(text: &str) -> Result<Vec<serde_yaml::Value>> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = serde_yaml::Value::deserialize(doc).map_err(|source| Error::Yaml {
            what: "the manifests".into(),
            source,
        })?;
        if !value.is_null() {
            out.push(value);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_split_and_empty_ones_skipped() {
        let docs = documents("---\nkind: A\n---\n---\nkind: B\n").expect("yaml");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1]["kind"].as_str(), Some("B"));
        assert!(documents("kind: [").is_err());
    }

    #[test]
    fn a_directory_is_every_manifest_file_in_it() {
        let dir = std::env::temp_dir().join(format!("runway-manifests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("b.yaml"), "kind: B\n").expect("b");
        std::fs::write(dir.join("a.yml"), "kind: A").expect("a");
        std::fs::write(dir.join("notes.txt"), "kind: C\n").expect("c");
        let docs = documents(&read(&dir).expect("read")).expect("yaml");
        let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
        assert_eq!(kinds, vec!["A", "B"]);
        std::fs::remove_dir_all(&dir).ok();
    }
}

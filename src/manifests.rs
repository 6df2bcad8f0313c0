//! Reading manifests for the commands that take them (`runway migrate apprunner -f`,
//! `runway diff -f`): a file or standard input, split into its YAML documents.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::{Error, Result};

/// The text of a manifest file, or of standard input for `-`.
pub fn read(path: &Path) -> Result<String> {
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
}

//! Reading manifests for the commands that take them (`runway migrate apprunner -f`,
//! `runway diff -f`): a file or standard input, split into its YAML documents; and the one YAML
//! reader and writer of the crate (serde-saphyr), set up the same way everywhere.
//!
//! A document is read into a [`Value`], the JSON data model that Kubernetes itself converts YAML
//! manifests to, and from there into runway's types with [`from_value`].

use std::io::Read;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::YamlError;
use crate::{Error, Result};

/// A YAML document as a dynamic value.
pub type Value = serde_json::Value;

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
pub fn documents(text: &str) -> Result<Vec<Value>> {
    serde_saphyr::from_multiple_with_options(text, read_options()).map_err(|source| Error::Yaml {
        what: "the manifests".into(),
        source: source.into(),
    })
}

/// One YAML (or JSON) document as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> std::result::Result<T, YamlError> {
    Ok(serde_saphyr::from_str_with_options(text, read_options())?)
}

/// A document read by [`documents`] as `T`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> std::result::Result<T, YamlError> {
    Ok(serde_json::from_value(value)?)
}

/// `value` as one YAML document, in the layout of the checked-in `crds/` files: two-space
/// indentation, sequence items level with their key, multi-line strings as `|-` blocks, long lines
/// never folded.
pub fn to_string<T: Serialize>(value: &T) -> std::result::Result<String, YamlError> {
    let mut options = serde_saphyr::SerializerOptions::default();
    options.indent_step = 2;
    options.compact_list_indent = true;
    options.prefer_block_scalars = true;
    options.folded_wrap_chars = usize::MAX;
    Ok(serde_saphyr::to_string_with_options(value, options)?)
}

/// How runway reads YAML: as serde_yaml did, YAML 1.2 scalars. `yes`, `on`, `0755` and `1_000`
/// stay strings when nothing asks for a boolean or a number; duplicate keys are an error. A
/// directory of manifests is read as one text, so its size is not capped (serde-saphyr's default
/// budget stops at 1,024 documents); the nesting and alias limits stay.
fn read_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.leading_zero_numbers_as_strings = true;
    options.underscored_numbers_as_strings = true;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_documents = usize::MAX;
    budget.max_nodes = usize::MAX;
    budget.max_events = usize::MAX;
    options.budget = Some(budget);
    options
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
        let many = "---\nkind: A\nmetadata: {name: x, labels: {a: b}}\n".repeat(3000);
        assert_eq!(documents(&many).expect("3000 documents").len(), 3000);
    }

    #[test]
    fn scalars_read_as_yaml_1_2_and_json_is_yaml() {
        let docs = documents(
            "a: yes\nb: on\nc: '80'\nd: 80\ne: 0755\nf: 1_000\ng: true\nh: ~\ni: 1.5\n---\n{\"kind\": \"J\"}\n",
        )
        .expect("yaml");
        assert_eq!(
            docs[0],
            serde_json::json!({"a": "yes", "b": "on", "c": "80", "d": 80, "e": "0755", "f": "1_000",
                               "g": true, "h": null, "i": 1.5})
        );
        assert_eq!(docs[1]["kind"], "J");
        assert!(documents("a: 1\na: 2\n").is_err(), "duplicate keys");
        assert_eq!(from_str::<Value>("").expect("empty"), Value::Null);
    }

    #[test]
    fn written_yaml_reads_back_and_keeps_the_crd_layout() {
        let value = serde_json::json!({
            "list": [{"name": "a", "port": 1}],
            "text": "two\nlines",
            "quoted": "80",
            "long": "x ".repeat(80).trim_end(),
        });
        let text = to_string(&value).expect("yaml");
        assert!(text.contains("list:\n- name: a\n  port: 1\n"), "{text}");
        assert!(text.contains("text: |-\n  two\n  lines\n"), "{text}");
        assert!(text.contains("quoted: \"80\"\n"), "{text}");
        assert!(
            text.contains(&format!("long: {}\n", value["long"].as_str().unwrap_or_default())),
            "{text}"
        );
        assert_eq!(from_str::<Value>(&text).expect("reads back"), value);
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

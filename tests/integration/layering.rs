//! The crates' layering as a newcomer relies on it: `connectors` (below `schema`) runs no
//! SQL against the tables `schema`'s migrations define, and the product crates do not
//! depend on the simulated city.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The tables the migrations create.
fn schema_tables() -> Vec<String> {
    let mut tables = Vec::new();
    let dir = root().join("migrations");
    for entry in std::fs::read_dir(&dir).expect("the migrations folder") {
        let sql = std::fs::read_to_string(entry.expect("an entry").path()).expect("a migration");
        let words: Vec<String> = sql
            .split(|c: char| c.is_whitespace() || c == '(')
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        for (at, window) in words.windows(2).enumerate() {
            if window[0] == "create" && window[1] == "table" {
                let name = words[at + 2..]
                    .iter()
                    .find(|w| !matches!(w.as_str(), "if" | "not" | "exists"));
                tables.extend(name.cloned());
            }
        }
    }
    tables.sort();
    tables.dedup();
    tables
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn connectors_run_no_sql_against_the_schema_crates_tables() {
    let tables = schema_tables();
    assert!(tables.len() >= 20, "tables found: {tables:?}");
    assert!(tables.contains(&"entity_links".to_owned()));
    let mut files = Vec::new();
    rust_files(&root().join("connectors/src"), &mut files);
    assert!(files.len() > 10);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a source file");
        // Code only: prose about departments' data is not SQL.
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let words: Vec<String> = code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        for pair in words.windows(2) {
            let sql_verb = matches!(
                pair[0].as_str(),
                "from" | "join" | "into" | "update" | "table" | "copy" | "truncate"
            );
            if sql_verb && tables.contains(&pair[1]) {
                found.push(format!("{}: {} {}", file.display(), pair[0], pair[1]));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn the_product_crates_do_not_depend_on_the_simulated_city() {
    for manifest in ["connectors/Cargo.toml", "schema/Cargo.toml"] {
        let text = std::fs::read_to_string(root().join(manifest)).expect("a manifest");
        assert!(!text.contains("simulation"), "{manifest}");
    }
    let gateway = std::fs::read_to_string(root().join("gateway/Cargo.toml")).expect("manifest");
    assert!(
        gateway.contains("simulation = { workspace = true, optional = true }"),
        "the gateway has the simulated city only through its `simulation` feature"
    );
}

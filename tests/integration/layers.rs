//! The layering rule, checked on the source: base ← model ← wechat ← {scenario, run, emulator}
//! ← {report, describe} ← app. A module may use its own layer's peers only where the table says
//! so, and never a layer above it (test code excepted).

use std::collections::BTreeMap;
use std::path::Path;

/// Each top-level module and its layer; a module may use layers strictly below its own.
const LAYERS: &[(&str, u8)] = &[
    ("base", 0),
    ("model", 1),
    ("wechat", 2),
    ("scenario", 3),
    ("run", 3),
    ("emulator", 3),
    ("report", 4),
    ("describe", 4),
    ("app", 5),
];

/// Same-layer edges that are allowed (none today).
const PEER_EDGES: &[(&str, &str)] = &[];

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// The `crate::X` references of one file, without its `#[cfg(test)] mod … { … }` tail.
fn references(text: &str) -> Vec<String> {
    let code = match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut found = Vec::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap_or_default();
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap_or(file);
        let top = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            continue;
        }
        // A file that is test code as a whole is declared `#[cfg(test)] mod name;`.
        let name = file.file_stem().map(|s| s.to_string_lossy().into_owned());
        if matches!(name.as_deref(), Some("scripted" | "testing")) {
            continue;
        }
        let Some(own) = layer(&top) else {
            panic!("src/{top} is in no layer: add it to LAYERS and to the README's module map");
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for used in references(&text) {
            if used == top {
                continue;
            }
            let Some(theirs) = layer(&used) else { continue };
            let peer_ok = PEER_EDGES.contains(&(top.as_str(), used.as_str()));
            if theirs > own || (theirs == own && !peer_ok) {
                wrong
                    .entry(format!("{} -> {used}", relative.display()))
                    .or_default();
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "edges that point up or sideways: {:?}",
        wrong.keys().collect::<Vec<_>>()
    );
}

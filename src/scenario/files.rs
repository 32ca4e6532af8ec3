//! Which files a run reads: the paths given, folders walked for `*.yaml` / `*.yml`, each file
//! read as UTF-8 text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rust_i18n::t;

use crate::base::diag::Diagnostic;

/// The scenario files named by `paths`: files as given; folders → every `*.yaml` / `*.yml`
/// inside, recursively, sorted by path, leaving out hidden files and folders (a name that
/// starts with `.`, such as `.github/`), as ripgrep does; a hidden path given by name is read. Order is kept and no file comes twice. A missing path
/// or a folder without scenarios is an error.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Vec<Diagnostic>> {
    let (files, problems) = gather(paths);
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(problems)
    }
}

/// The files of `paths` (see [`collect_files`]) and the problems met finding them.
pub(super) fn gather(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let mut add = |file: PathBuf, files: &mut Vec<PathBuf>| {
        let identity = std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone());
        if seen.insert(identity) {
            files.push(file);
        }
    };
    let expanded = expand_globs(paths, &mut problems);
    for path in &expanded {
        let name = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(Diagnostic::whole_file(name, t!("files.no_such")));
            }
            Err(e) => problems.push(Diagnostic::whole_file(
                name,
                t!("files.cannot_read", error = e.to_string()),
            )),
            Ok(meta) if meta.is_dir() => {
                let mut found = Vec::new();
                let mut visited = BTreeSet::new();
                let before = problems.len();
                walk(path, &mut found, &mut problems, &mut visited, 0);
                found.sort();
                if found.is_empty() && problems.len() == before {
                    problems.push(
                        Diagnostic::whole_file(name, t!("files.empty_folder"))
                            .with_help(t!("files.empty_folder_help")),
                    );
                }
                for file in found {
                    add(file, &mut files);
                }
            }
            Ok(_) => add(path.clone(), &mut files),
        }
    }
    (files, problems)
}

/// Paths as given, with quoted glob patterns (`'scenarios/dada_*.yaml'`) expanded in path
/// order; a path that exists as written is never read as a pattern.
fn expand_globs(paths: &[PathBuf], problems: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        let text = path.to_string_lossy();
        if path.exists() || !text.contains(['*', '?', '[']) {
            out.push(path.clone());
            continue;
        }
        // `*` does not match a leading `.`, as in the shell: hidden files stay out.
        let options = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..glob::MatchOptions::new()
        };
        match glob::glob_with(&text, options) {
            Err(e) => problems.push(
                Diagnostic::whole_file(text.as_ref(), t!("files.bad_glob", error = e.msg))
                    .with_help(t!("files.bad_glob_help")),
            ),
            Ok(matches) => {
                let before = out.len();
                out.extend(matches.flatten());
                if out.len() == before {
                    problems.push(Diagnostic::whole_file(text.as_ref(), t!("files.no_match")));
                }
            }
        }
    }
    out
}

fn walk(
    dir: &Path,
    found: &mut Vec<PathBuf>,
    problems: &mut Vec<Diagnostic>,
    visited: &mut BTreeSet<PathBuf>,
    depth: usize,
) {
    // Symbolic links may loop; each real folder is read once, and not too deep.
    let identity = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    if depth > 32 || !visited.insert(identity) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Diagnostic::whole_file(
                dir.display().to_string(),
                t!("files.cannot_read_folder", error = e.to_string()),
            ));
            return;
        }
    };
    for entry in entries.flatten() {
        // `.github/workflows/ci.yml` and editors' `.foo.yaml.swp` are no scenarios.
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, found, problems, visited, depth + 1);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        {
            found.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load_plan;
    use crate::scenario::testing::{VALID, carriers, ctx, one, tempdir, write};

    #[test]
    fn fixture_not_utf8() {
        one("not_utf8.yaml", 0, 0, &["not UTF-8"]);
    }

    #[test]
    fn quoted_globs_expand_in_path_order() {
        let dir = tempdir();
        let d = dir.path();
        write(&d.join("dada_b.yaml"), VALID);
        write(&d.join("dada_a.yaml"), VALID);
        write(&d.join("sf.yaml"), VALID);
        write(&d.join("nested/dada_c.yaml"), VALID);
        write(&d.join(".dada_hidden.yaml"), VALID);
        let pattern = d.join("*dada_*.yaml");
        let files = match collect_files(&[pattern, d.join("nest*")]) {
            Ok(f) => f,
            Err(p) => panic!("{p:?}"),
        };
        assert_eq!(
            files,
            [
                d.join("dada_a.yaml"),
                d.join("dada_b.yaml"),
                d.join("nested/dada_c.yaml")
            ]
        );
        let problems = match collect_files(&[d.join("zz_*.yaml"), d.join("[oops")]) {
            Ok(f) => panic!("{f:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].message.contains("no file or folder matches"),
            "{problems:?}"
        );
        assert!(
            problems[1].message.contains("not a valid glob pattern"),
            "{problems:?}"
        );
    }

    #[test]
    fn collects_files_and_folders_in_a_stable_order_without_duplicates() {
        let dir = tempdir();
        let d = dir.path();
        write(&d.join("b.yaml"), VALID);
        write(&d.join("a.yml"), VALID);
        write(&d.join("sub/c.YAML"), VALID);
        write(&d.join("notes.txt"), "not a scenario");
        write(&d.join("empty/readme.md"), "");
        write(&d.join(".github/workflows/ci.yml"), "on: push\n");
        write(&d.join("sub/.hidden.yaml"), "not: a scenario\n");
        let given = vec![d.join("b.yaml"), d.to_path_buf(), d.join("./b.yaml")];
        let files = match collect_files(&given) {
            Ok(f) => f,
            Err(p) => panic!("{p:?}"),
        };
        assert_eq!(
            files,
            [d.join("b.yaml"), d.join("a.yml"), d.join("sub/c.YAML")]
        );
        let problems = match collect_files(&[d.join("missing.yaml"), d.join("empty")]) {
            Ok(f) => panic!("{f:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 2);
        assert!(
            problems[0]
                .to_string()
                .ends_with("missing.yaml: error: no such file or folder")
        );
        assert!(
            problems[1]
                .message
                .contains("no scenario files (*.yaml or *.yml) in this folder")
        );
        // load_plan reports those and the problems of the files it did find.
        write(
            &d.join("bad.yaml"),
            "carrier: nope\nshop_order_id: x\nsteps: [{status: 102}]\n",
        );
        let problems = match load_plan(
            &[d.join("missing.yaml"), d.join("bad.yaml")],
            &carriers(),
            &ctx(),
        ) {
            Ok(p) => panic!("{p:?}"),
            Err(p) => p,
        };
        assert_eq!(problems.len(), 2, "{problems:#?}");
    }
}

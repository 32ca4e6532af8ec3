//! Reading the files a user names: UTF-8 text, or a located reason why not.

use rust_i18n::t;
use std::path::Path;

use crate::base::diag::Diagnostic;

/// Reads a file the user named, as UTF-8 text, or says why it cannot.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::whole_file(&name, t!("file.unreadable", error = e)))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::whole_file(
            &name,
            t!("file.not_utf8", offset = e.utf8_error().valid_up_to()),
        )
        .with_help(t!("file.not_utf8_help"))
    })
}

/// Makes `path` ready to take a report before anything is sent: its folder created if
/// missing, proven writable with a probe file, and a report left there by an earlier run
/// removed, so that after a crash (or SIGKILL) no old report looks like this run's.
pub fn prepare_output(path: &Path) -> std::io::Result<()> {
    let folder = folder_of(path);
    std::fs::create_dir_all(folder)?;
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a folder",
        ));
    }
    let probe = temp_path(path);
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)?;
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` whole or not at all: a temporary file in the same folder, synced
/// to disk, then renamed over `path`. On any error (a full disk) the temporary file is
/// removed and nothing is left at `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// As [`write_atomic`], for a writer that streams: `write` gets a buffered writer over the
/// temporary file, so a large report never has to be held in memory whole.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let temp = temp_path(path);
    let written = (|| {
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::fs::File::create(&temp)?);
        write(&mut out)?;
        out.flush()?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    written
}

fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `.NAME.PID.tmp` beside `path`: hidden, and this process's own.
fn temp_path(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".to_owned());
    folder_of(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("simulate-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn preparing_creates_the_folder_and_removes_a_stale_report() {
        let dir = scratch("prepare");
        let path = dir.join("deep/er/report.json");
        assert!(prepare_output(&path).is_ok());
        assert!(path.parent().is_some_and(Path::is_dir));
        assert!(std::fs::write(&path, "old").is_ok());
        assert!(prepare_output(&path).is_ok());
        assert!(!path.exists(), "the old report is gone");
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap_or(&dir))
                .map(|d| d.count())
                .ok(),
            Some(0)
        );
        assert!(prepare_output(&dir).is_err(), "a folder is no report");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn an_atomic_write_leaves_the_whole_file_or_nothing() {
        let dir = scratch("atomic");
        let path = dir.join("r.json");
        assert!(prepare_output(&path).is_ok());
        assert!(write_atomic(&path, b"{}\n").is_ok());
        assert_eq!(std::fs::read(&path).ok().as_deref(), Some(&b"{}\n"[..]));
        // A write that fails (here: the target is a folder) leaves no temporary file behind.
        let folder = dir.join("taken");
        assert!(std::fs::create_dir_all(folder.join("x")).is_ok());
        assert!(write_atomic(&folder, b"data").is_err());
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Reading the files a user names: UTF-8 text, or a located reason why not.

use std::path::Path;

use crate::base::diag::Diagnostic;

/// Reads a file the user named, as UTF-8 text, or says why it cannot.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::whole_file(&name, format!("cannot read the file: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::whole_file(
            &name,
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .with_help("save the file as UTF-8")
    })
}

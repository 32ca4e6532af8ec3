//! Located messages about input a user wrote: `file:line:column: message`, then a hint.

use std::fmt;

use rust_i18n::t;

/// One problem in a file the user gave us, with where it is and what would be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: u64,
    /// 1-based; 0 when the problem concerns the whole file.
    pub column: u64,
    pub message: String,
    /// What is allowed instead, or a "did you mean".
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(
        file: impl Into<String>,
        line: u64,
        column: u64,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            file: file.into(),
            line,
            column,
            message: message.into(),
            help: None,
        }
    }

    /// A problem with the file as a whole (unreadable, not UTF-8).
    pub fn whole_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic::new(file, 0, 0, message)
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl Diagnostic {
    /// The diagnostic as a warning: `file:line:column: warning: …`, then its help.
    pub fn warning_text(&self) -> String {
        let mut out = if self.line == 0 {
            t!(
                "diag.warning_whole_file",
                file = self.file,
                message = self.message
            )
        } else {
            t!(
                "diag.warning_located",
                file = self.file,
                line = self.line,
                column = self.column,
                message = self.message
            )
        }
        .into_owned();
        if let Some(help) = &self.help {
            out.push('\n');
            out.push_str(&t!("diag.help", help = help));
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            let line = t!("diag.whole_file", file = self.file, message = self.message);
            f.write_str(&line)?;
        } else {
            let line = t!(
                "diag.located",
                file = self.file,
                line = self.line,
                column = self.column,
                message = self.message
            );
            f.write_str(&line)?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n{}", t!("diag.help", help = help))?;
        }
        Ok(())
    }
}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len().max(word.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edits between two words over chars (optimal string alignment: an insertion, a deletion,
/// a substitution, or two neighbours swapped, as in `atfer` for `after`, each count one).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_location_and_help() {
        let d = Diagnostic::new("a.yaml", 3, 7, "unknown carrier `dad`")
            .with_help("known carriers: dada, sftc");
        assert_eq!(
            d.to_string(),
            "a.yaml:3:7: error: unknown carrier `dad`\n  help: known carriers: dada, sftc"
        );
        assert_eq!(
            Diagnostic::whole_file("b.yaml", "not UTF-8").to_string(),
            "b.yaml: error: not UTF-8"
        );
    }

    #[test]
    fn suggests_close_words_only() {
        assert_eq!(
            did_you_mean("stauts", ["status", "steps", "after"]),
            Some("status")
        );
        assert_eq!(
            did_you_mean("Dad", ["dada", "sftc", "sandbox"]),
            Some("dada")
        );
        assert_eq!(did_you_mean("zzzzzz", ["status", "steps"]), None);
        // Two letters swapped are one slip, not two.
        assert_eq!(did_you_mean("atfer", ["after", "status"]), Some("after"));
        assert_eq!(did_you_mean("stauts", ["status"]), Some("status"));
    }
}

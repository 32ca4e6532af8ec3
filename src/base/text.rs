//! Small wording helpers shared by every text the tool prints.

/// `1 step`, `2 steps`, `0 steps`: the count and the word, which takes an `s` unless the
/// count is one. Every word the tool counts has a regular plural.
pub fn plural(count: usize, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

/// Text from outside (a server's `errmsg`, a scenario name, a file name, an error chain) made
/// safe to print on one line of a terminal: every control character (escape sequences, CR,
/// line breaks, DEL, C1 controls) and every bidirectional override becomes a visible `\u{..}`,
/// so a hostile endpoint can neither drive the terminal (titles, OSC 52 clipboard writes,
/// clearing the screen) nor print a line that looks like ours.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whole output on its way to a terminal: line breaks, tabs and our own colours (SGR, `ESC [
/// digits m`) pass; any other control character is shown as `\u{..}`. The last line of
/// defence behind [`printable`], for text that quotes outside values inside our own lines.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    let bytes = text.as_bytes();
    let clean = text.char_indices().all(|(i, c)| {
        !is_unsafe(c) || c == '\n' || c == '\t' || (c == '\x1b' && sgr_len(&bytes[i..]) > 0)
    });
    if clean {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '\x1b' {
            let sgr = sgr_len(&bytes[i..]);
            if sgr > 0 {
                out.push_str(&text[i..i + sgr]);
                // The sequence is ASCII: one char per byte.
                for _ in 1..sgr {
                    chars.next();
                }
                continue;
            }
        }
        if is_unsafe(c) && c != '\n' && c != '\t' {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Length of a colour sequence `ESC [ (digits | ;)* m` at the start of `bytes`, else 0.
fn sgr_len(bytes: &[u8]) -> usize {
    if bytes.len() < 3 || bytes[0] != 0x1b || bytes[1] != b'[' {
        return 0;
    }
    for (i, b) in bytes.iter().enumerate().skip(2).take(16) {
        match b {
            b'0'..=b'9' | b';' => {}
            b'm' => return i + 1,
            _ => return 0,
        }
    }
    0
}

fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_cannot_drive_the_terminal() {
        let hostile = "ok\x1b]52;c;ZWNobyBwd25lZA==\x07\x1b[2J\rPASSED\n\u{202e}x\x7f\u{9b}";
        let shown = printable(hostile);
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert_eq!(
            shown,
            "ok\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}\\u{1b}[2J\\u{d}PASSED\\u{a}\\u{202e}x\\u{7f}\\u{9b}"
        );
        assert!(matches!(
            printable("骑手已接单 ok"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn output_keeps_lines_tabs_and_our_colours_only() {
        let ours = "\x1b[32m✓ ok\x1b[0m\tnext\n";
        assert!(matches!(terminal_safe(ours), std::borrow::Cow::Borrowed(_)));
        let theirs = "\x1b[32mok\x1b[0m \x1b]0;title\x07 \x1b[2J \x1b[1;1H\r\n";
        assert_eq!(
            terminal_safe(theirs),
            "\x1b[32mok\x1b[0m \\u{1b}]0;title\\u{7} \\u{1b}[2J \\u{1b}[1;1H\\u{d}\n"
        );
    }

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(plural(1, "step"), "1 step");
        assert_eq!(plural(0, "step"), "0 steps");
        assert_eq!(plural(2, "delay range"), "2 delay ranges");
    }
}

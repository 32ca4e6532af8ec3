//! How wide a text will be on the timeline, without a browser to ask: a rough per-character
//! width in the sans-serif, enough to keep labels from overlapping.

/// A rough width of `text` in the sans-serif at `size` (user units), for laying out labels.
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().map(char_width).sum::<f64>() * size
}

/// `text` cut to about `max` user units wide, with an ellipsis when cut.
pub(super) fn truncate(text: &str, max: f64, size: f64) -> String {
    if text_width(text, size) <= max {
        return text.to_owned();
    }
    let budget = max - text_width("…", size);
    let mut width = 0.0;
    let mut out = String::new();
    for c in text.chars() {
        width += char_width(c) * size;
        if width > budget {
            break;
        }
        out.push(c);
    }
    format!("{}…", out.trim_end())
}

/// A character's width in ems.
fn char_width(c: char) -> f64 {
    if is_wide(c) {
        1.0
    } else if c.is_ascii_uppercase() || c == 'm' || c == 'w' {
        0.72
    } else if matches!(
        c,
        'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' | '(' | ')'
    ) {
        0.32
    } else if c.is_ascii() {
        0.58
    } else {
        0.8
    }
}

/// CJK and other full-width characters: a whole em each.
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}'
        | '\u{2E80}'..='\u{A4CF}'
        | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}'
        | '\u{20000}'..='\u{3FFFD}')
}

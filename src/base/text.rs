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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_everything_else_plural() {
        assert_eq!(plural(1, "step"), "1 step");
        assert_eq!(plural(0, "step"), "0 steps");
        assert_eq!(plural(2, "delay range"), "2 delay ranges");
    }
}

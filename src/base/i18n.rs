//! The language of everything printed for people, and the counted nouns of the catalogues.
//!
//! Messages live in `locales/en.yml` and `locales/zh.yml` (one catalogue per language, compiled
//! in by rust-i18n); code looks them up with `t!("key", name = value)`. The language is chosen
//! once at start (`--lang`, else the locale) and is process-wide, since every layer prints.
//! Machine-readable output (JSON, JUnit, events) never goes through here.

use std::sync::atomic::{AtomicU8, Ordering};

use rust_i18n::t;

/// The language of text shown to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    /// The catalogue's locale name, also the HTML `lang` tag.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// The language a POSIX locale asks for: the first of `LC_ALL`, `LC_MESSAGES` and `LANG`
    /// that is set and not empty decides (their order of precedence); `zh…` is Chinese.
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        let chosen = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|name| var(name))
            .find(|value| !value.trim().is_empty());
        match chosen {
            Some(value) if value.trim().to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }
}

static CURRENT: AtomicU8 = AtomicU8::new(0);

/// Chooses the language of everything printed from now on.
pub fn set(lang: Lang) {
    CURRENT.store(lang as u8, Ordering::Relaxed);
    rust_i18n::set_locale(lang.code());
}

/// The language chosen at start (English until then).
pub fn current() -> Lang {
    match CURRENT.load(Ordering::Relaxed) {
        1 => Lang::Zh,
        _ => Lang::En,
    }
}

/// The nouns the tool counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noun {
    Scenario,
    Step,
    Problem,
    File,
    Attempt,
    DelayRange,
    Order,
    Carrier,
    Token,
}

/// `1 step`, `2 steps` (`2 个步骤` in Chinese, which has no plural): the count and its noun,
/// in the current language.
pub fn count(n: usize, noun: Noun) -> String {
    count_in(current(), n, noun)
}

/// [`count`] in a given language.
pub fn count_in(lang: Lang, n: usize, noun: Noun) -> String {
    let locale = lang.code();
    let text = match (noun, n == 1) {
        (Noun::Scenario, true) => t!("count.scenario.one", locale = locale),
        (Noun::Scenario, false) => t!("count.scenario.other", locale = locale, count = n),
        (Noun::Step, true) => t!("count.step.one", locale = locale),
        (Noun::Step, false) => t!("count.step.other", locale = locale, count = n),
        (Noun::Problem, true) => t!("count.problem.one", locale = locale),
        (Noun::Problem, false) => t!("count.problem.other", locale = locale, count = n),
        (Noun::File, true) => t!("count.file.one", locale = locale),
        (Noun::File, false) => t!("count.file.other", locale = locale, count = n),
        (Noun::Attempt, true) => t!("count.attempt.one", locale = locale),
        (Noun::Attempt, false) => t!("count.attempt.other", locale = locale, count = n),
        (Noun::DelayRange, true) => t!("count.delay_range.one", locale = locale),
        (Noun::DelayRange, false) => t!("count.delay_range.other", locale = locale, count = n),
        (Noun::Order, true) => t!("count.order.one", locale = locale),
        (Noun::Order, false) => t!("count.order.other", locale = locale, count = n),
        (Noun::Token, true) => t!("count.token.one", locale = locale),
        (Noun::Token, false) => t!("count.token.other", locale = locale, count = n),
        (Noun::Carrier, true) => t!("count.carrier.one", locale = locale),
        (Noun::Carrier, false) => t!("count.carrier.other", locale = locale, count = n),
    };
    text.into_owned()
}

/// Where in a file a value is, as messages append it after the value's key: ` in step 2`
/// (`（第 2 步）` in Chinese).
pub fn in_step(n: usize) -> String {
    t!("place.step", n = n).into_owned()
}

/// ` in a step`: where allowed keys are listed for every step.
pub fn in_a_step() -> String {
    t!("place.a_step").into_owned()
}

/// ` in `key`` inside `place` (itself such a phrase, or empty at the top of the file).
pub fn in_key(key: &str, place: &str) -> String {
    t!("place.key", key = key, place = place).into_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    use super::*;

    fn catalogue(lang: &str) -> BTreeMap<String, String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("locales/{lang}.yml"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let mut map: BTreeMap<String, serde_json::Value> =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        map.remove("_version");
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => (k, s),
                other => panic!("{lang}.yml: {k} is not one flat string: {other}"),
            })
            .collect()
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        let mut rest = text;
        while let Some(at) = rest.find("%{") {
            rest = &rest[at + 2..];
            if let Some(end) = rest.find('}') {
                found.insert(rest[..end].to_owned());
                rest = &rest[end..];
            }
        }
        found
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// Catalogue keys are dotted lower-case words (`summary.run`).
    fn is_key(text: &str) -> bool {
        text.contains('.')
            && text.split('.').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            })
    }

    /// Every key that code looks up with `t!("…"`.
    fn keys_in_source() -> BTreeMap<String, PathBuf> {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut keys = BTreeMap::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("t!(") {
                // `t!(`, not the end of `format!(` or `assert!(`.
                let word_before = rest[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_');
                rest = &rest[at + 3..];
                if word_before {
                    continue;
                }
                let literal = rest.trim_start();
                if let Some(body) = literal.strip_prefix('"')
                    && let Some(end) = body.find('"')
                    && is_key(&body[..end])
                {
                    keys.insert(body[..end].to_owned(), file.clone());
                }
            }
        }
        keys
    }

    #[test]
    fn every_english_message_has_a_chinese_one_and_no_other() {
        let en = catalogue("en");
        let zh = catalogue("zh");
        let missing: Vec<&String> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let extra: Vec<&String> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "no Chinese for: {missing:?}");
        assert!(extra.is_empty(), "Chinese without English: {extra:?}");
        for (key, english) in &en {
            let chinese = &zh[key];
            assert!(!chinese.trim().is_empty(), "{key}: empty Chinese");
            assert_eq!(
                placeholders(english),
                placeholders(chinese),
                "{key}: the two languages name different values"
            );
        }
    }

    #[test]
    fn every_key_used_is_in_the_catalogue_and_every_key_is_used() {
        let en = catalogue("en");
        let used = keys_in_source();
        let unknown: Vec<String> = used
            .iter()
            .filter(|(k, _)| !en.contains_key(*k))
            .map(|(k, file)| format!("{k} ({})", file.display()))
            .collect();
        assert!(
            unknown.is_empty(),
            "looked up but not in en.yml: {unknown:?}"
        );
        let unused: Vec<&String> = en.keys().filter(|k| !used.contains_key(*k)).collect();
        assert!(
            unused.is_empty(),
            "in the catalogues but never looked up: {unused:?}"
        );
    }

    #[test]
    fn the_locale_picks_chinese_by_posix_precedence() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(Lang::from_locale(env(&[])), Lang::En);
        assert_eq!(Lang::from_locale(env(&[("LANG", "zh_CN.UTF-8")])), Lang::Zh);
        assert_eq!(Lang::from_locale(env(&[("LANG", "en_US.UTF-8")])), Lang::En);
        assert_eq!(
            Lang::from_locale(env(&[("LANG", "zh_CN.UTF-8"), ("LC_ALL", "C")])),
            Lang::En
        );
        assert_eq!(
            Lang::from_locale(env(&[("LANG", "C"), ("LC_MESSAGES", "zh_TW.UTF-8")])),
            Lang::Zh
        );
        assert_eq!(
            Lang::from_locale(env(&[("LC_ALL", ""), ("LANG", "zh_CN")])),
            Lang::Zh
        );
    }

    #[test]
    fn counts_read_well_in_both_languages() {
        assert_eq!(count_in(Lang::En, 1, Noun::Step), "1 step");
        assert_eq!(count_in(Lang::En, 0, Noun::Step), "0 steps");
        assert_eq!(count_in(Lang::En, 2, Noun::DelayRange), "2 delay ranges");
        assert_eq!(count_in(Lang::Zh, 1, Noun::Step), "1 个步骤");
        assert_eq!(count_in(Lang::Zh, 3, Noun::Scenario), "3 个场景");
    }
}

//! `${NAME}` in the text values of a file the user wrote (scenarios, the carrier table): read
//! from the environment when the file is loaded, so that secrets stay out of the file.
//!
//! One pass over the text: a value read from a variable is not expanded again. `{{name}}`
//! templates are split off for the caller when asked for (only scenarios have any).

use rust_i18n::t;
use std::collections::BTreeMap;

/// The environment as `${NAME}` reads it.
pub type Env = BTreeMap<String, String>;

/// The process's environment; variables that are not UTF-8 are left out.
pub fn from_process() -> Env {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Something wrong in one `${…}`, for the caller to locate at the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub help: String,
}

/// One part of a value as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Text written as is.
    Text(&'a str),
    /// What a `${NAME}` read from the environment.
    Var(&'a str),
    /// The name in a `{{name}}` (trimmed), when templates were asked for.
    Template(&'a str),
    /// A `${…}` that could not be read; nothing of it is in the value.
    Problem(Problem),
    /// A `{{` without `}}`; the rest of the value is dropped.
    UnclosedTemplate,
}

/// The parts of `raw`, the value of `key`, in order. `secret` values never have what is
/// between `${` and `}` quoted when it does not look like a variable name, since it may be
/// the secret itself. With `templates`, `{{name}}` is a [`Piece::Template`].
pub fn pieces<'a>(
    raw: &'a str,
    env: &'a Env,
    key: &str,
    secret: bool,
    templates: bool,
) -> Vec<Piece<'a>> {
    let mut out = Vec::new();
    let mut rest = raw;
    loop {
        let var = rest.find("${");
        let tpl = if templates { rest.find("{{") } else { None };
        let (start, is_var) = match (var, tpl) {
            (Some(v), Some(t)) if t < v => (t, false),
            (Some(v), _) => (v, true),
            (None, Some(t)) => (t, false),
            (None, None) => break,
        };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let open = &rest[start + 2..];
        let close = if is_var { "}" } else { "}}" };
        let Some(end) = open.find(close) else {
            out.push(if is_var {
                Piece::Problem(Problem {
                    message: t!("env.unclosed", key = key).into_owned(),
                    help: t!("env.unclosed_help").into_owned(),
                })
            } else {
                Piece::UnclosedTemplate
            });
            return out;
        };
        let name = open[..end].trim();
        rest = &open[end + close.len()..];
        out.push(if is_var {
            variable(name, env, key, secret)
        } else {
            Piece::Template(name)
        });
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// What a value expanded to, and the values it read (a secret's, to redact them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expanded {
    pub text: String,
    pub read: Vec<String>,
}

/// `raw` with every `${NAME}` replaced (no templates), or every problem in it.
pub fn expand(raw: &str, env: &Env, key: &str, secret: bool) -> Result<Expanded, Vec<Problem>> {
    let mut text = String::new();
    let mut read = Vec::new();
    let mut problems = Vec::new();
    for piece in pieces(raw, env, key, secret, false) {
        match piece {
            Piece::Text(t) => text.push_str(t),
            Piece::Var(value) => {
                text.push_str(value);
                read.push(value.to_owned());
            }
            Piece::Problem(p) => problems.push(p),
            // Not produced without templates; `{{` stays text.
            Piece::Template(_) | Piece::UnclosedTemplate => {}
        }
    }
    if problems.is_empty() {
        Ok(Expanded { text, read })
    } else {
        Err(problems)
    }
}

fn variable<'a>(name: &str, env: &'a Env, key: &str, secret: bool) -> Piece<'a> {
    let problem = |message: String, help: String| Piece::Problem(Problem { message, help });
    if !is_var_name(name) {
        return if secret {
            // What is between `${` and `}` may be the secret itself.
            problem(
                t!("env.bad_name_secret", key = key).into_owned(),
                t!("env.name_help").into_owned(),
            )
        } else {
            problem(
                t!("env.bad_name", name = name, key = key).into_owned(),
                t!("env.name_help").into_owned(),
            )
        };
    }
    match env.get(name) {
        Some(value) => Piece::Var(value),
        // `${d80400f9…}`: a secret written where a name belongs.
        None if secret && !is_conventional_var_name(name) => problem(
            t!("env.unset_secret_name", key = key).into_owned(),
            t!("env.unset_secret_name_help").into_owned(),
        ),
        None => problem(
            t!("env.unset", name = name, key = key).into_owned(),
            t!("env.unset_help", name = name).into_owned(),
        ),
    }
}

/// A name as environment variables are usually written: capitals, digits and `_`.
fn is_conventional_var_name(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn messages(result: Result<Expanded, Vec<Problem>>) -> Vec<String> {
        match result {
            Ok(e) => panic!("expanded to {e:?}"),
            Err(p) => p.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn variables_expand_once_and_are_remembered() {
        let env = env(&[("A", "x"), ("TPL", "${A}{{run_id}}")]);
        let done = expand("${A}-${ A }-$5-${TPL}", &env, "k", false);
        assert_eq!(
            done,
            Ok(Expanded {
                text: "x-x-$5-${A}{{run_id}}".to_owned(),
                read: vec!["x".into(), "x".into(), "${A}{{run_id}}".into()],
            })
        );
        assert_eq!(
            expand("{{run_id}}", &env, "k", false).map(|e| e.text),
            Ok("{{run_id}}".to_owned()),
            "without templates, `{{` is text"
        );
    }

    #[test]
    fn every_problem_is_named() {
        let env = env(&[]);
        let m = messages(expand("${NOPE_A}${NOPE_B}${1BAD}${OPEN", &env, "k", false));
        assert_eq!(
            m,
            [
                "environment variable `NOPE_A` is not set (used in `k`)",
                "environment variable `NOPE_B` is not set (used in `k`)",
                "`${1BAD}` in `k` is not a variable name",
                "unclosed `${` in `k`",
            ]
        );
    }

    #[test]
    fn a_secret_written_where_a_name_belongs_is_not_quoted() {
        let env = env(&[]);
        for raw in ["${d80400f91e156f63}", "${d804-00f9}"] {
            let m = messages(expand(raw, &env, "appsecret", true));
            assert!(m[0].contains("not shown"), "{m:?}");
            assert!(!m[0].contains("d804"), "{m:?}");
        }
        let m = messages(expand("${FN_SECRET}", &env, "appsecret", true));
        assert_eq!(
            m,
            ["environment variable `FN_SECRET` is not set (used in `appsecret`)"]
        );
    }

    #[test]
    fn templates_are_split_off_when_asked_for() {
        let env = env(&[("A", "x")]);
        assert_eq!(
            pieces("a{{ run_id }}${A}{{open", &env, "k", false, true),
            [
                Piece::Text("a"),
                Piece::Template("run_id"),
                Piece::Var("x"),
                Piece::UnclosedTemplate
            ]
        );
    }
}

//! `simulate man` (the main page, with the scenario format and the exit codes), `man --dir`
//! (every page the main one refers to) and `completions` (with carrier ids after `--carrier`).

use std::path::Path;

use clap::CommandFactory;
use rust_i18n::t;

use super::cli::Cli;
use super::error::AppError;
use crate::model::carriers::Carriers;

/// The command as the pages describe it: no `help` subcommand, whose page nobody writes.
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// The main page: name, synopsis, description, options, the subcommands (each `simulate-NAME(1)`,
/// written by [`write_pages`]), the scenario format and the exit codes.
pub fn main_page() -> Result<String, AppError> {
    let cmd = command();
    let man = clap_mangen::Man::new(cmd);
    let mut out = Vec::new();
    man.render_title(&mut out).map_err(AppError::ManPage)?;
    man.render_name_section(&mut out)
        .map_err(AppError::ManPage)?;
    man.render_synopsis_section(&mut out)
        .map_err(AppError::ManPage)?;
    man.render_description_section(&mut out)
        .map_err(AppError::ManPage)?;
    man.render_options_section(&mut out)
        .map_err(AppError::ManPage)?;
    man.render_subcommands_section(&mut out)
        .map_err(AppError::ManPage)?;
    let mut page = String::from_utf8_lossy(&out).into_owned();
    page.push_str(&section(
        &t!("man.scenario_heading"),
        &t!("man.scenario_format"),
    ));
    page.push_str(&section(&t!("man.exit_heading"), crate::base::exit::HELP));
    let mut out = Vec::new();
    man.render_version_section(&mut out)
        .map_err(AppError::ManPage)?;
    page.push_str(&String::from_utf8_lossy(&out));
    Ok(page)
}

/// `simulate.1` and a page for every subcommand it lists, into `dir` (created when missing);
/// the paths written.
pub fn write_pages(dir: &Path) -> Result<Vec<std::path::PathBuf>, AppError> {
    let write = |path: std::path::PathBuf, text: &[u8]| {
        crate::base::files::write_atomic(&path, text)
            .map(|()| path.clone())
            .map_err(|error| AppError::Write { path, error })
    };
    std::fs::create_dir_all(dir).map_err(|error| AppError::Write {
        path: dir.to_path_buf(),
        error,
    })?;
    let mut written = vec![write(dir.join("simulate.1"), main_page()?.as_bytes())?];
    for sub in command().get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = clap_mangen::Man::new(sub.clone());
        let mut out = Vec::new();
        man.render(&mut out).map_err(AppError::ManPage)?;
        written.push(write(dir.join(man.get_filename()), &out)?);
    }
    Ok(written)
}

/// A roff section of plain lines, kept as written (`.nf`), with what roff would read as a
/// request or an escape made literal.
fn section(heading: &str, text: &str) -> String {
    let mut out = format!(".SH \"{}\"\n.nf\n", heading.replace('"', "\\(dq"));
    for line in text.lines() {
        let line = line.replace('\\', "\\e");
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(".fi\n");
    out
}

/// The completion script for `shell`: every option, and after `--carrier` the ids and aliases
/// of the carrier table (the built-in one, or `--carriers FILE`'s).
pub fn completions(shell: clap_complete::Shell, carriers: &Carriers) -> String {
    let names: Vec<String> = carriers
        .all()
        .iter()
        .flat_map(|c| std::iter::once(c.id.clone()).chain(c.aliases.iter().cloned()))
        .collect();
    let mut cmd = Cli::command();
    // Only the script lists them: the parser still takes a carrier added at run time.
    for sub in ["new", "graph", "send", "paths"] {
        let names = names.clone();
        cmd = cmd.mut_subcommand(sub, |s| {
            s.mut_arg("carrier", |a| {
                a.value_parser(clap::builder::PossibleValuesParser::new(names))
            })
        });
    }
    // `send --status` takes a code or a name.
    let statuses: Vec<String> = crate::model::statuses::Status::all()
        .flat_map(|s| [s.code().to_string(), s.name().to_owned()])
        .collect();
    cmd = cmd.mut_subcommand("send", |s| {
        s.mut_arg("status", |a| {
            a.value_parser(clap::builder::PossibleValuesParser::new(statuses))
        })
    });
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "simulate", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_sections_keep_lines_literal() {
        assert_eq!(
            section("EXIT STATUS", ".dot\n'quote\na\\b"),
            ".SH \"EXIT STATUS\"\n.nf\n\\&.dot\n\\&'quote\na\\eb\n.fi\n"
        );
    }
}

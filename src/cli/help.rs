//! What the command says about itself beyond clap's own help: the examples
//! that end `--help`, shell completion scripts and the man page. All come
//! from the one clap definition in [`super::args`], so a new option shows up
//! in every one of them at once.

use super::args::{Cli, ShellArg};
use clap::CommandFactory;
use roff::{Roff, bold, roman};
use std::io;

/// (what it does, the command): the end of `--help` and the man page's EXAMPLES.
const EXAMPLES: &[(&str, &str)] = &[
    ("The 20 most frequent words of a book, as a table", "gpucount -n 20 -f table book.txt"),
    ("Every file under a directory (walked recursively, .gitignore honoured)", "gpucount -n 10 notes/"),
    ("Standard input", "pdftotext paper.pdf - | gpucount -n 10"),
    ("JSON for scripts (jsonl: one object per line, for large outputs)", "gpucount -f json book.txt > counts.json"),
    ("Bigrams, English stopwords removed first", "gpucount --ngram 2 --stopwords en -n 10 book.txt"),
    ("The CPU against the GPU: each timed, outputs checked identical", "gpucount bench book.txt"),
    (
        "Today's counts added to last month's, without recounting",
        "gpucount --save-table today.gct today/ && gpucount merge month.gct today.gct --save-table month.gct",
    ),
];

/// What each exit status means: the man page's EXIT STATUS.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Everything was counted."),
    (
        "2",
        "Some input was missing, unreadable, malformed, a broken archive or a failed download (each named on \
         stderr; everything else was counted and printed), or the command line was wrong. For merge: a saved \
         table was missing, damaged, of an unknown version or counted with other options (nothing is printed).",
    ),
    ("1", "The run could not happen: --backend gpu with no usable adapter, a GPU failure, or output not written."),
    ("130, 143", "Interrupted by SIGINT or SIGTERM (a partly written -o FILE is removed)."),
];

/// The whole command line: clap's definition with the examples after `--help`.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    let (header, literal) = (*cmd.get_styles().get_header(), *cmd.get_styles().get_literal());
    // clap strips these styles when stdout is not a terminal, as it does its own.
    let mut text = format!("{header}Examples:{header:#}\n");
    for (what, how) in EXAMPLES {
        text.push_str(&format!("  {what}:\n      {literal}{how}{literal:#}\n"));
    }
    cmd.after_help(text)
}

/// The completion script for `shell`.
pub fn completions(shell: ShellArg) -> Vec<u8> {
    use clap_complete::Shell;
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
        ShellArg::Powershell => Shell::PowerShell,
        ShellArg::Elvish => Shell::Elvish,
    };
    // Into memory: clap_complete panics on a write error, and `| head` must end quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut offered(&Cli::command()), "gpucount", &mut script);
    script
}

/// `cmd` without its hidden arguments: clap_complete offers hidden options
/// too (by design), and ours are test hooks nobody should be offered.
/// (The copy leaves out settings that only parsing uses.)
fn offered(cmd: &clap::Command) -> clap::Command {
    let mut copy = clap::Command::new(cmd.get_name().to_owned())
        .args(cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned())
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).map(offered));
    if let Some(about) = cmd.get_about() {
        copy = copy.about(about.clone());
    }
    if let Some(version) = cmd.get_version() {
        copy = copy.version(version.to_owned());
    }
    copy
}

/// gpucount(1): the counting options, then a section per subcommand with its
/// own options (one page, as ripgrep's, rather than one page per
/// subcommand), then examples and exit statuses.
pub fn man_page() -> io::Result<Vec<u8>> {
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    let subcommands: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    let mut roff = Roff::new();
    roff.control("SH", ["COMMANDS"]);
    for sub in &subcommands {
        roff.control("TP", []);
        roff.text([bold(format!("gpucount {}", sub.get_name()))]);
        roff.text([roman(sub.get_about().map(|a| a.to_string()).unwrap_or_default())]);
    }
    roff.to_writer(&mut page)?;
    for sub in subcommands {
        let mut roff = Roff::new();
        roff.control("SH", [format!("GPUCOUNT {}", sub.get_name().to_uppercase()).as_str()]);
        roff.to_writer(&mut page)?;
        let man = clap_mangen::Man::new(sub.clone());
        let mut sections = Vec::new();
        man.render_description_section(&mut sections)?;
        man.render_synopsis_section(&mut sections)?;
        man.render_options_section(&mut sections)?;
        page.extend(subsections(&sections));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for (what, how) in EXAMPLES {
        roff.control("TP", []);
        roff.text([roman(format!("{what}:"))]);
        roff.text([bold(*how)]);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (status, meaning) in EXIT_STATUS {
        roff.control("TP", []);
        roff.text([bold(*status)]);
        roff.text([roman(*meaning)]);
    }
    roff.to_writer(&mut page)?;
    man.render_version_section(&mut page)?;
    Ok(once_preamble(page))
}

/// The page with the preamble every roff rendering starts with (it defines
/// the apostrophe string) kept only at its top.
fn once_preamble(page: Vec<u8>) -> Vec<u8> {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    // roff renders Strings, so the page is UTF-8.
    let text = String::from_utf8_lossy(&page);
    match text.find(PREAMBLE) {
        Some(at) => {
            let (head, tail) = text.split_at(at + PREAMBLE.len());
            format!("{head}{}", tail.replace(PREAMBLE, "")).into_bytes()
        }
        None => page,
    }
}

/// clap_mangen's sections (`.SH NAME`, then text; options come in one
/// section per help heading) as subsections of the current section.
fn subsections(sections: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(sections);
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.strip_prefix(".SH ") {
            Some(title) => {
                out.push_str(".SS ");
                out.push_str(title);
            }
            None => out.push_str(line),
        }
    }
    out.into_bytes()
}

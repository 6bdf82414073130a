//! What the command says about itself: completion scripts, the man page,
//! `--help` and `--version`, and the short options. Names are taken from the
//! clap definition itself, so an option added later is checked too.

use crate::util::{Dir, gpucount};
use clap::CommandFactory;

// The binary's clap definition, compiled into the tests as it is into the binary.
#[allow(dead_code, unused_imports)]
#[path = "../src/cli/args.rs"]
mod args;

/// The definition, built (so subcommands know their full names).
fn definition() -> clap::Command {
    let mut cmd = args::Cli::command();
    cmd.build();
    cmd
}

/// Every visible subcommand but clap's `help`, with its visible long options.
fn subcommands(cmd: &clap::Command) -> Vec<(String, Vec<String>)> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| (s.get_name().to_string(), long_options(s, false)))
        .collect()
}

/// Long option names of `cmd`, visible or hidden.
fn long_options(cmd: &clap::Command, hidden: bool) -> Vec<String> {
    cmd.get_arguments().filter(|a| a.is_hide_set() == hidden).filter_map(|a| a.get_long()).map(String::from).collect()
}

fn stdout_of(args: &[&str]) -> String {
    let out = gpucount().args(args).assert().success().get_output().clone();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_definition_passes_claps_own_checks() {
    // Duplicate short or long names, bad defaults: what clap checks only in debug builds.
    args::Cli::command().debug_assert();
}

#[test]
fn completion_scripts_offer_every_subcommand_and_option() {
    let cmd = definition();
    let subs = subcommands(&cmd);
    assert!(subs.len() >= 6, "{subs:?}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        // fish names long options `-l NAME`; the others write `--NAME`.
        let option = |name: &str| if shell == "fish" { format!("-l {name}") } else { format!("--{name}") };
        for long in long_options(&cmd, false) {
            assert!(script.contains(&option(&long)), "{shell}: --{long} missing");
        }
        for long in long_options(&cmd, true) {
            assert!(!script.contains(&option(&long)), "{shell}: hidden --{long} offered");
        }
        for (name, longs) in &subs {
            assert!(script.contains(name.as_str()), "{shell}: subcommand {name} missing");
            for long in longs {
                assert!(script.contains(&option(long)), "{shell}: {name} --{long} missing");
            }
        }
    }
    // The bash script is a script bash accepts.
    let script = stdout_of(&["completions", "bash"]);
    let d = Dir::new();
    let f = d.write("gpucount.bash", &script);
    let checked = std::process::Command::new("bash").arg("-n").arg(&f).output().unwrap();
    assert!(checked.status.success(), "{}", String::from_utf8_lossy(&checked.stderr));
    gpucount().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn the_man_page_documents_every_subcommand_option_and_value() {
    let cmd = definition();
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH gpucount 1"), "{}", &page[..200]);
    // roff writes a dash as `\-`.
    let roff = |name: &str| format!("\\-\\-{}", name.replace('-', "\\-"));
    let mut commands = vec![(String::new(), long_options(&cmd, false))];
    commands.extend(subcommands(&cmd));
    for (name, longs) in &commands {
        if !name.is_empty() {
            assert!(page.contains(&format!(".SH \"GPUCOUNT {}\"", name.to_uppercase())), "section of {name}");
            assert!(page.contains(&format!("gpucount {name}")), "{name} in COMMANDS");
        }
        for long in longs {
            assert!(page.contains(&roff(long)), "{name} --{long} missing");
        }
    }
    for long in long_options(&cmd, true) {
        assert!(!page.contains(&roff(&long)), "hidden --{long} documented");
    }
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "EXAMPLES", "\"EXIT STATUS\""] {
        assert!(page.contains(&format!("\n.SH {section}\n")), "section {section} missing");
    }
    // Every value of every value enum, with its description.
    for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
        for value in arg.get_possible_values().iter().filter(|v| !v.is_hide_set()) {
            assert!(page.contains(value.get_name()), "--{:?} value {}", arg.get_long(), value.get_name());
        }
    }
    // groff reads it without a warning (-k: through preconv, as man does).
    let d = Dir::new();
    let f = d.write("gpucount.1", &page);
    match std::process::Command::new("groff").args(["-k", "-man", "-Tutf8", "-ww", "-z"]).arg(&f).output() {
        Ok(out) => assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warnings"),
        Err(e) => eprintln!("SKIPPED groff check: {e}"),
    }
}

#[test]
fn every_option_and_every_value_is_described() {
    fn check(cmd: &clap::Command, path: &str) {
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let name = format!("{path} {}", arg.get_long().unwrap_or(arg.get_id().as_str()));
            assert!(arg.get_help().is_some_and(|h| !h.to_string().is_empty()), "{name} has no help");
            for value in arg.get_possible_values().iter().filter(|v| !v.is_hide_set()) {
                assert!(value.get_help().is_some(), "{name} value {} has no help", value.get_name());
            }
        }
        for sub in cmd.get_subcommands() {
            assert!(sub.get_about().is_some(), "{path} {} has no about", sub.get_name());
            check(sub, &format!("{path} {}", sub.get_name()));
        }
    }
    check(&definition(), "gpucount");
    // And --help shows them: each value of --format with its description.
    let help = stdout_of(&["--help"]);
    let cmd = definition();
    let format = cmd.get_arguments().find(|a| a.get_long() == Some("format")).unwrap();
    for value in format.get_possible_values() {
        let text = value.get_help().unwrap().to_string();
        assert!(help.contains(&format!("- {}:", value.get_name())), "{}", value.get_name());
        assert!(help.contains(&text), "{text}");
    }
}

#[test]
fn help_ends_with_examples() {
    for flag in ["--help", "-h"] {
        let help = stdout_of(&[flag]);
        let (before, examples) = help.split_once("\nExamples:\n").expect("an Examples section");
        assert!(before.contains("Options:"), "{flag}: examples come last");
        for wanted in ["-n 20 -f table book.txt", "notes/", "| gpucount", "-f json", "gpucount bench"] {
            assert!(examples.contains(wanted), "{flag}: no example with {wanted:?}");
        }
        assert!(!examples.contains("Options:") && !examples.contains('\x1b'), "{flag}");
    }
}

#[test]
fn version_names_the_backends_compiled_in() {
    let backends = if cfg!(feature = "gpu") { "cpu, gpu/wgpu" } else { "cpu" };
    let expected = format!("gpucount {} (backends: {backends})\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(stdout_of(&["--version"]), expected);
    assert_eq!(stdout_of(&["-V"]), expected);
}

#[test]
fn short_options_users_guess() {
    let d = Dir::new();
    let f = d.write("a.txt", "a a a b b c");
    let f = f.to_str().unwrap();
    assert_eq!(stdout_of(&["-n", "2", f]), "a\t3\nb\t2\n");
    assert_eq!(stdout_of(&["-n2", f]), stdout_of(&["--top", "2", f]));
    assert_eq!(stdout_of(&["-f", "csv", f]), "word,count\na,3\nb,2\nc,1\n");
    assert_eq!(stdout_of(&["-j", "1", "-f", "table", f]), stdout_of(&["--threads", "1", "--format", "table", f]));
    gpucount()
        .args(["-j", "1", "--stats", "--backend", "cpu", f])
        .assert()
        .success()
        .stderr(predicates::str::contains("(1 thread)"));
    // Together, as people type them.
    assert_eq!(stdout_of(&["-n", "1", "-f", "tsv", "-j", "2", f]), "a\t3\n");
    // The subcommands with a --format take -f too, and sentences takes -j.
    let devices: serde_json::Value = serde_json::from_str(&stdout_of(&["devices", "-f", "json"])).unwrap();
    assert!(devices["logical_cores"].as_u64().unwrap() >= 1);
    let bench = gpucount().args(["bench", "--runs", "1", "--no-gpu", "-j", "1", "-f", "json", f]).assert().success();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&bench.get_output().stdout).unwrap()["tokens"], 6);
    assert_eq!(stdout_of(&["sentences", "-j", "1", f]), "a a a b b c\n");
    // -j says what its threads do where it is used: sentences counts nothing.
    let help = |cmd: &[&str]| stdout_of(&[cmd, &["--help"]].concat());
    assert!(help(&[]).contains("Threads that count"));
    assert!(help(&["sentences"]).contains("Threads that cut sentences"));
    // A value clap cannot take is still one clear line.
    let out = gpucount().args(["-n", "many", f]).assert().code(2).get_output().stderr.clone();
    let err = String::from_utf8(out).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("'many'") && err.contains("--top"), "{err}");
}

#[test]
fn completions_and_the_man_page_end_quietly_in_a_closed_pipe() {
    for args in ["completions zsh", "man"] {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("'{}' {args} | true; echo ${{PIPESTATUS[0]}}", env!("CARGO_BIN_EXE_gpucount")))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{args}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args}");
    }
}

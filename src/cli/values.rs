//! clap value parsing for the library's enums (kept here so only `cli` knows clap).

use crate::report::Format;
use crate::tokenize::Mode;
use clap::ValueEnum;
use clap::builder::PossibleValue;

/// `--backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum BackendChoice {
    /// A hardware GPU when there is one and the input is large enough, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// The GPU, software adapters (lavapipe) included; fails if there is none.
    Gpu,
}

impl ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &Format::ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.name()))
    }
}

impl ValueEnum for Mode {
    fn value_variants<'a>() -> &'a [Self] {
        &[Mode::Words, Mode::Whitespace]
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(match self {
            Mode::Words => PossibleValue::new("words").help("runs of letters, digits and marks"),
            Mode::Whitespace => PossibleValue::new("whitespace").help("runs of non-whitespace"),
        })
    }
}

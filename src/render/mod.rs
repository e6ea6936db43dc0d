//! Rendering plans and apply reports for people and machines. Renderers see only the plan
//! model, the findings of the checks and the state vocabulary, never a provider.

pub mod findings;
pub mod json;
pub mod markdown;
pub mod mask;
pub mod projects;
pub mod table;

/// Whether output may carry ANSI colour; decided once, from `--color`, `NO_COLOR` and whether
/// stdout is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
}

impl Style {
    pub const PLAIN: Style = Style { color: false };
}

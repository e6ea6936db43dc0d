//! The binary's edge: parse arguments, run the command, turn the result into an exit code and
//! print errors, all in one place.

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;

use authkit_sync::cli::Cli;
use authkit_sync::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap uses 2 for usage errors, but 2 means "changes present" here: a typo in a
            // pipeline must never read as a pending change.
            return if error.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };

    match commands::run(cli) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(error) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {error:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}

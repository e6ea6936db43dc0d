//! End-to-end benchmarks: the real binary, from process start to exit, against the project's
//! emulator with a latency injected into every answer, so that the round trips a command
//! waits for one after the other show up as multiples of that latency.
//!
//! ```text
//! cargo bench --bench perf                       # every section, 20 runs, 50 ms latency
//! cargo bench --bench perf -- plan apply --runs 10 --latency-ms 100
//! cargo bench --bench perf -- plan --binary /tmp/old/authkit-sync   # measure another build
//! ```
//!
//! Sections: `startup`, `plan`, `apply`, `walk`, `projects`. The emulator runs in this
//! process; the binary runs as a child, timed from spawn to exit, and again through a small
//! launcher for its peak memory (see `measure`). Nothing here asserts on time: the figures are
//! printed, with the bounds they are meant to meet, for `docs/performance.md`.

mod fixtures;
mod measure;
mod sections;

use std::time::Duration;

/// What to run, from the command line.
pub struct Options {
    pub sections: Vec<String>,
    pub runs: usize,
    pub latency: Duration,
}

/// Reads the command line; `--launch` makes this process the memory-measuring launcher.
/// Without `--bench`, test runners are calling (`cargo test` with no arguments, nextest with
/// `--list`): there are no tests here, and their flags are not sections.
fn options() -> Options {
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == measure::LAUNCH) {
        measure::launch(args.skip(1));
    }
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    if !args.iter().any(|a| a == "--bench") {
        if !args.iter().any(|a| a == "--list") {
            println!("the end-to-end benchmarks run with `cargo bench --bench perf`");
        }
        std::process::exit(0);
    }
    parse(args.into_iter())
}

const SECTIONS: [&str; 5] = ["startup", "plan", "apply", "walk", "projects"];

fn parse(mut args: impl Iterator<Item = String>) -> Options {
    let mut options = Options {
        sections: Vec::new(),
        runs: 20,
        latency: Duration::from_millis(50),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .expect("--runs takes a positive number");
            }
            "--latency-ms" => {
                let ms = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--latency-ms takes a number");
                options.latency = Duration::from_millis(ms);
            }
            "--binary" => {
                let path = args.next().expect("--binary takes a path");
                fixtures::use_binary(path.into());
            }
            // `--bench`, and libtest's other flags, mean nothing more here.
            flag if flag.starts_with("--") => {}
            section if SECTIONS.contains(&section) => options.sections.push(arg.clone()),
            other => panic!("unknown section `{other}`; the sections are {SECTIONS:?}"),
        }
    }
    if options.sections.is_empty() {
        options.sections = SECTIONS.iter().map(|s| (*s).to_owned()).collect();
    }
    options
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    sections::machine();
    for section in &options.sections {
        println!();
        match section.as_str() {
            "startup" => sections::startup(&options),
            "plan" => sections::plan(&runtime, &options),
            "apply" => sections::apply(&runtime, &options),
            "walk" => sections::walk(&runtime, &options),
            "projects" => sections::projects(&runtime, &options),
            _ => {}
        }
    }
}

//! Running a process and measuring it from start to exit: wall time and peak resident memory,
//! and the min/median/max of several runs.
//!
//! Peak memory is measured through a launcher, a fresh copy of this benchmark that only
//! starts the process and reaps it with `wait4`. Measuring a child of the benchmark itself
//! would not do: Linux counts the memory of the process that forks into the child's peak (the
//! child starts as its copy), and the benchmark holds an emulator with thousands of items. The
//! launcher is small, and [`floor`] says how small: no figure can be below it.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What to run. Kept apart from `Command` so that it can be started directly, for its wall
/// time, or through the launcher, for its peak memory.
#[derive(Debug, Clone)]
pub struct Spec {
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    clear_env: bool,
}

impl Spec {
    pub fn new(program: impl Into<OsString>) -> Spec {
        Spec {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            clear_env: false,
        }
    }

    /// Starts from an empty environment rather than the benchmark's.
    pub fn env_clear(&mut self) -> &mut Spec {
        self.clear_env = true;
        self
    }

    pub fn env(&mut self, name: impl Into<OsString>, value: impl Into<OsString>) -> &mut Spec {
        self.env.push((name.into(), value.into()));
        self
    }

    pub fn arg(&mut self, arg: impl Into<OsString>) -> &mut Spec {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(&mut self, args: I) -> &mut Spec {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The command that runs the program; through the launcher, writing its peak to `peak`.
    fn command(&self, peak: Option<&Path>) -> Command {
        let mut command = match peak {
            None => Command::new(&self.program),
            Some(peak) => {
                let mut launcher = Command::new(std::env::current_exe().expect("own path"));
                launcher.arg(LAUNCH).arg(peak).arg(&self.program);
                launcher
            }
        };
        if self.clear_env {
            command.env_clear();
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.args(&self.args);
        command
    }
}

/// The launcher's flag: `--launch PEAK_FILE PROGRAM ARGS...`.
pub const LAUNCH: &str = "--launch";

/// The launcher: runs `PROGRAM ARGS...` with this process's environment and output, writes
/// its peak resident memory in KiB to `PEAK_FILE`, and exits with its code.
pub fn launch(mut args: impl Iterator<Item = OsString>) -> ! {
    let peak = args.next().expect("the peak file");
    let program = args.next().expect("the program");
    let mut command = Command::new(program);
    command.args(args);
    let (_, usage, code) = reap(&mut command);
    std::fs::write(peak, usage.to_string()).expect("peak file");
    std::process::exit(code)
}

/// Starts `command` and waits for it with `wait4`: the wall time, the peak resident memory in
/// KiB the kernel reports for it, and the exit code (-1 after a signal).
fn reap(command: &mut Command) -> (Duration, u64, i32) {
    let started = Instant::now();
    #[allow(
        clippy::zombie_processes,
        reason = "reaped below by wait4, which std's wait cannot replace: it drops the usage"
    )]
    let child = command.spawn().expect("the command starts");
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; zeroes are a valid value for it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pointers are to live locals; the pid is our own child, not yet reaped.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(reaped, pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (wall, u64::try_from(usage.ru_maxrss).unwrap_or(0), code)
}

/// One run of a process.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size in KiB; 0 when not measured.
    pub max_rss_kib: u64,
    pub code: i32,
}

/// How a run is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Started directly: the wall time, from spawn to exit.
    Wall,
    /// Started through the launcher: the peak memory.
    Memory,
}

/// Runs `spec` to completion with stdout and stderr sent to files in `scratch`.
pub fn run(spec: &Spec, scratch: &Path, measure: Measure) -> Run {
    let stdout = File::create(scratch.join("stdout")).expect("stdout file");
    let stderr = File::create(scratch.join("stderr")).expect("stderr file");
    let peak = scratch.join("peak");
    let mut command = spec.command((measure == Measure::Memory).then_some(peak.as_path()));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let (wall, _, code) = reap(&mut command);
    let max_rss_kib = match measure {
        Measure::Wall => 0,
        Measure::Memory => std::fs::read_to_string(&peak)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0),
    };
    Run {
        wall,
        max_rss_kib,
        code,
    }
}

/// Like [`run`], and fails with the program's output when it exits with another code.
pub fn run_expecting(spec: &Spec, scratch: &Path, measure: Measure, codes: &[i32]) -> Run {
    let run = run(spec, scratch, measure);
    if !codes.contains(&run.code) {
        let read = |name: &str| std::fs::read_to_string(scratch.join(name)).unwrap_or_default();
        panic!(
            "{spec:?} exited with {}, expected one of {codes:?}\nstdout:\n{}\nstderr:\n{}",
            run.code,
            read("stdout"),
            read("stderr")
        );
    }
    run
}

/// The smallest peak the launcher can report: that of `true`.
pub fn floor(scratch: &Path) -> u64 {
    run(&Spec::new("true"), scratch, Measure::Memory).max_rss_kib
}

/// Min, median and max of a series.
#[derive(Debug, Clone, Copy)]
pub struct Spread<T> {
    pub min: T,
    pub median: T,
    pub max: T,
}

impl<T: Copy + Ord> Spread<T> {
    pub fn of(values: impl IntoIterator<Item = T>) -> Spread<T> {
        let mut values: Vec<T> = values.into_iter().collect();
        assert!(!values.is_empty(), "no values");
        values.sort();
        Spread {
            min: values[0],
            median: values[values.len() / 2],
            max: values[values.len() - 1],
        }
    }
}

/// Wall time and peak memory of several runs of one thing.
pub struct Figures {
    pub runs: usize,
    pub wall: Spread<Duration>,
    pub rss: Spread<u64>,
}

impl Figures {
    /// The wall times of `walls` and the peaks of `peaks`.
    pub fn of(walls: &[Run], peaks: &[Run]) -> Figures {
        Figures {
            runs: walls.len(),
            wall: Spread::of(walls.iter().map(|r| r.wall)),
            rss: Spread::of(
                peaks
                    .iter()
                    .map(|r| r.max_rss_kib)
                    .chain(peaks.is_empty().then_some(0)),
            ),
        }
    }

    pub fn of_durations(walls: &[Duration]) -> Figures {
        Figures {
            runs: walls.len(),
            wall: Spread::of(walls.iter().copied()),
            rss: Spread::of([0]),
        }
    }
}

pub fn ms(duration: Duration) -> String {
    format!("{:.1}", duration.as_secs_f64() * 1000.0)
}

pub fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "n={:<3} wall ms min {:>7} median {:>7} max {:>7}",
            self.runs,
            ms(self.wall.min),
            ms(self.wall.median),
            ms(self.wall.max)
        )?;
        if self.rss.max > 0 {
            write!(
                f,
                "  max RSS MiB min {:>5} median {:>5} max {:>5}",
                mib(self.rss.min),
                mib(self.rss.median),
                mib(self.rss.max)
            )?;
        }
        Ok(())
    }
}

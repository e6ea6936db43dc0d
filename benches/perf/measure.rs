//! Running a process and measuring it from start to exit: wall time and peak resident memory,
//! and the min/median/max of several runs.

use std::fmt;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of a process.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub wall: Duration,
    /// Peak resident set size in KiB, as the kernel reports it for the reaped child.
    pub max_rss_kib: u64,
    pub code: i32,
}

/// Runs `command` to completion with stdout and stderr sent to files in `scratch`, and
/// measures it. The child is reaped with `wait4`, which hands back its resource usage.
pub fn run(command: &mut Command, scratch: &Path) -> Run {
    let stdout = File::create(scratch.join("stdout")).expect("stdout file");
    let stderr = File::create(scratch.join("stderr")).expect("stderr file");
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
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
    Run {
        wall,
        max_rss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        code,
    }
}

/// Like [`run`], and fails with the command's output when it exits with another code.
pub fn run_expecting(command: &mut Command, scratch: &Path, codes: &[i32]) -> Run {
    let run = run(command, scratch);
    if !codes.contains(&run.code) {
        let read = |name: &str| std::fs::read_to_string(scratch.join(name)).unwrap_or_default();
        panic!(
            "{command:?} exited with {}, expected one of {codes:?}\nstdout:\n{}\nstderr:\n{}",
            run.code,
            read("stdout"),
            read("stderr")
        );
    }
    run
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
    pub fn of(runs: &[Run]) -> Figures {
        Figures {
            runs: runs.len(),
            wall: Spread::of(runs.iter().map(|r| r.wall)),
            rss: Spread::of(runs.iter().map(|r| r.max_rss_kib)),
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

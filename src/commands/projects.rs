//! Which projects a run covers (the `--dir` values, with globs expanded, in a stable order),
//! and how they run together.
//!
//! A literal value is a project even when it holds no `convex.json` (loading it then says so).
//! A glob such as `apps/*` stands for the directories it matches that hold a `convex.json`:
//! a monorepo's `apps/` also holds apps without one, and naming each project by hand is what a
//! glob is meant to spare. A glob that matches no such directory is an error, because a typo
//! would otherwise make a run that checks nothing look like a success.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use futures::StreamExt as _;

use crate::project::CONFIG_FILE;

/// The project directories of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// In the order given, each glob's matches sorted, without repeats.
    pub dirs: Vec<PathBuf>,
    /// Whether the output has a section per project. It depends on the command line only (more
    /// than one `--dir`, or a glob), never on how many directories a glob happens to match, so
    /// that a script reading the output always sees the same shape.
    pub several: bool,
}

impl Selection {
    /// The one directory of `command`, which works on a single project.
    pub fn only(&self, command: &str) -> anyhow::Result<&Path> {
        match self.dirs.as_slice() {
            [dir] if !self.several => Ok(dir),
            _ => {
                anyhow::bail!("{command} works on one project; give a single --dir without a glob")
            }
        }
    }
}

/// How many projects run at once. Each project waits on the network, not the processor: its
/// reads (two or three requests at once) take one round trip. Sixteen projects keep some
/// thirty requests in flight, more than enough to reach WorkOS's rate limit (100 requests a
/// second) at any round trip up to 0.3 s, while the shared HTTP client paces the requests of
/// every project under that one limit; more would only open more connections.
pub const AT_ONCE: usize = 16;

/// Runs `one` on every item, at most [`AT_ONCE`] at a time, and returns the results in the
/// items' order. The futures run on the caller's task: they share the session by reference.
pub async fn for_each<I, T, F, Fut>(items: I, one: F) -> Vec<T>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: Future<Output = T>,
{
    futures::stream::iter(items)
        .map(one)
        .buffered(AT_ONCE)
        .collect()
        .await
}

/// Expands the `--dir` values; none means the current directory.
pub fn select(values: &[PathBuf]) -> anyhow::Result<Selection> {
    if values.is_empty() {
        return Ok(Selection {
            dirs: vec![PathBuf::from(".")],
            several: false,
        });
    }
    let mut dirs = Vec::new();
    let mut seen = HashSet::new();
    let mut any_glob = false;
    for value in values {
        let matched = match value.to_str().filter(|text| is_glob(text)) {
            Some(pattern) => {
                any_glob = true;
                expand(pattern)?
            }
            None => vec![value.clone()],
        };
        for dir in matched {
            // The same directory named twice (`.` and its absolute path) is one project: two
            // runs over it would race for its .env.local.
            let identity = dir.canonicalize().unwrap_or_else(|_| dir.clone());
            if seen.insert(identity) {
                dirs.push(dir);
            }
        }
    }
    Ok(Selection {
        dirs,
        several: values.len() > 1 || any_glob,
    })
}

fn is_glob(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

/// The directories holding a `convex.json` that `pattern` matches, sorted.
fn expand(pattern: &str) -> anyhow::Result<Vec<PathBuf>> {
    let paths =
        glob::glob(pattern).with_context(|| format!("--dir `{pattern}` is not a valid glob"))?;
    let mut directories = 0;
    let mut projects = Vec::new();
    for path in paths {
        let path = path.with_context(|| format!("--dir `{pattern}`: cannot read a match"))?;
        if !path.is_dir() {
            continue;
        }
        directories += 1;
        if path.join(CONFIG_FILE).is_file() {
            projects.push(path);
        } else {
            tracing::info!(dir = %path.display(), "skipped: no {CONFIG_FILE}");
        }
    }
    if directories == 0 {
        anyhow::bail!(
            "--dir `{pattern}` matches no directory; check the pattern, and quote it so that \
             the shell does not expand it first"
        );
    }
    if projects.is_empty() {
        let plural = if directories == 1 { "y" } else { "ies" };
        anyhow::bail!(
            "--dir `{pattern}` matches no project: it matches {directories} director{plural}, \
             none with a {CONFIG_FILE}"
        );
    }
    projects.sort();
    Ok(projects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (dir, config) in [
            ("apps/web", true),
            ("apps/admin", true),
            ("apps/docs", false),
        ] {
            let path = root.path().join(dir);
            std::fs::create_dir_all(&path).unwrap();
            if config {
                std::fs::write(path.join(CONFIG_FILE), "{}").unwrap();
            }
        }
        std::fs::write(root.path().join("apps/README.md"), "").unwrap();
        root
    }

    #[test]
    fn no_value_means_the_current_directory() {
        let selection = select(&[]).unwrap();
        assert_eq!(selection.dirs, [PathBuf::from(".")]);
        assert!(!selection.several);
        assert_eq!(selection.only("validate").unwrap(), Path::new("."));
    }

    #[test]
    fn globs_expand_to_sorted_project_directories() {
        let root = layout();
        let pattern = root.path().join("apps/*");
        let selection = select(&[pattern]).unwrap();
        let names: Vec<_> = selection
            .dirs
            .iter()
            .map(|d| d.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["admin", "web"]);
        assert!(selection.several);
        assert!(selection.only("validate").is_err());
    }

    #[test]
    fn literal_values_keep_their_order_and_lose_repeats() {
        let root = layout();
        let web = root.path().join("apps/web");
        let docs = root.path().join("apps/docs");
        let again = root.path().join("apps/../apps/web");
        let selection = select(&[web.clone(), docs.clone(), again]).unwrap();
        assert_eq!(selection.dirs, [web.clone(), docs]);
        assert!(selection.several);
        let one = select(std::slice::from_ref(&web)).unwrap();
        assert!(!one.several);

        // A glob that matches one project still gives a section per project.
        let glob = select(&[root.path().join("apps/w*")]).unwrap();
        assert_eq!(glob.dirs, [web]);
        assert!(glob.several);
    }

    #[test]
    fn a_glob_matching_no_project_is_an_error() {
        let root = layout();
        let error = select(&[root.path().join("apps/doc*")]).unwrap_err();
        let text = format!("{error:#}");
        assert!(text.contains("matches no project"), "{text}");
        assert!(
            text.contains("1 directory, none with a convex.json"),
            "{text}"
        );
        let error = select(&[root.path().join("nothing/*")]).unwrap_err();
        assert!(
            format!("{error:#}").contains("matches no directory"),
            "{error:#}"
        );
        assert!(select(&[PathBuf::from("apps/[")]).is_err());
    }
}

//! The `.env.local` provider: reads variables the way dotenv does and writes the lines the
//! plan names, leaving every other byte of the file as it was.
//!
//! A write happens once per apply: under an advisory lock on the project directory, through a
//! temporary file in the same directory that is renamed over the original. A crash therefore
//! leaves the old or the new file, never a mix, and two runs cannot interleave their edits.
//!
//! Under the lock the file is compared with the bytes the plan was made from. A saved plan is a
//! promise to apply exactly what was reviewed, so a changed file refuses it. A fresh apply
//! instead plans its own variables again against the file as it now is: when two applies run at
//! once, the second finds the first one's work and reports it as already done, and an edit made
//! meanwhile by hand is kept, since only the planned lines are touched.
//!
//! A crash between creating the temporary file (`.env.local.authkit-sync-XXXXXX.tmp`, mode
//! 0600, possibly holding secrets) and the rename leaves that file behind. Since every write
//! happens under the lock, such files found while holding it belong to no live writer, and the
//! next write removes them. A leftover file always means the rename did not happen, so the next
//! apply has the same lines to write.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;

use crate::dotenv::{Diagnostic, Document};
use crate::plan::{Action, Change};
use crate::state::{Address, Item, ResourceKind, State, Value, is_sensitive_name};

use super::{Done, Outcome, Reader, Writer};

/// The bytes of an env file as read once at the start of a run.
#[derive(Debug)]
pub struct EnvFile {
    path: PathBuf,
    exists: bool,
    bytes: Vec<u8>,
    document: Document,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    #[error("{path}: is a directory, not a file; move it away so that {name} can be a file")]
    IsDirectory { path: String, name: String },
    #[error("{path}: cannot be read: {source}")]
    Unreadable { path: String, source: io::Error },
    #[error("{path}:{line}: {problem}; {advice}")]
    Malformed {
        path: String,
        line: usize,
        problem: String,
        advice: &'static str,
    },
}

impl EnvFile {
    /// Reads `path`; a missing file is an empty one that does not exist yet.
    pub fn load(path: &Path) -> Result<EnvFile, EnvFileError> {
        let shown = path.display().to_string();
        let (exists, bytes) = match fs::read(path) {
            Ok(bytes) => (true, bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => (false, Vec::new()),
            Err(_) if path.is_dir() => {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                return Err(EnvFileError::IsDirectory {
                    path: shown,
                    name: name.unwrap_or_default(),
                });
            }
            Err(source) => {
                return Err(EnvFileError::Unreadable {
                    path: shown,
                    source,
                });
            }
        };
        let document = Document::parse(&bytes);
        Ok(EnvFile {
            path: path.to_owned(),
            exists,
            bytes,
            document,
        })
    }

    /// Fails on lines that dotenv would silently drop or read differently than they look.
    pub fn check(&self) -> Result<(), EnvFileError> {
        check_document(&self.path, &self.document)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.exists
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn document(&self) -> &Document {
        &self.document
    }

    /// The effective value of `name`, as dotenv reads it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.document.get(name).map(|entry| entry.value.as_str())
    }
}

fn check_document(path: &Path, document: &Document) -> Result<(), EnvFileError> {
    let path = path.display().to_string();
    match document.diagnostics().into_iter().next() {
        None => Ok(()),
        Some(Diagnostic::NotAnAssignment { line }) => Err(EnvFileError::Malformed {
            path,
            line,
            problem: "this line is not a `NAME=value` assignment, so dotenv ignores it".to_owned(),
            advice: "fix it or turn it into a comment with `#`",
        }),
        Some(Diagnostic::UnterminatedQuote { line, key }) => Err(EnvFileError::Malformed {
            path,
            line,
            problem: format!("the quote that opens the value of {key} is never closed"),
            advice: "close the quote; dotenv would read the quote character literally",
        }),
        Some(Diagnostic::TextAfterQuote { line, key }) => Err(EnvFileError::Malformed {
            path,
            line,
            problem: format!(
                "text follows the closing quote of {key}, so dotenv keeps the quotes as part \
                 of the value"
            ),
            advice: "remove the text after the quote, or start it with ` #` to comment it",
        }),
    }
}

/// Offers the variables of `.env.local` as live state.
pub struct EnvFileReader {
    file: Arc<EnvFile>,
}

impl EnvFileReader {
    pub fn new(file: Arc<EnvFile>) -> EnvFileReader {
        EnvFileReader { file }
    }
}

impl Reader for EnvFileReader {
    fn kinds(&self) -> &[ResourceKind] {
        &[ResourceKind::EnvFileVar]
    }

    async fn read(&self) -> anyhow::Result<State> {
        let mut state = State::new();
        for (name, value) in self.file.document.vars() {
            let value = if is_sensitive_name(&name) {
                Value::Secret(crate::state::Secret::new(value))
            } else {
                Value::Text(value)
            };
            state.insert(
                Address::new(ResourceKind::EnvFileVar, name),
                Item::new(value),
            );
        }
        state.mark_read(ResourceKind::EnvFileVar);
        Ok(state)
    }
}

/// What the writer does when the file changed after the plan was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnChange {
    /// Write nothing and fail: a saved plan applies exactly what was reviewed, or nothing.
    Refuse,
    /// Plan the same variables again against the new content (a fresh apply).
    Replan,
}

/// Writes the planned variables into the file the plan was made from.
pub struct EnvFileWriter {
    file: Arc<EnvFile>,
    on_change: OnChange,
}

impl EnvFileWriter {
    pub fn new(file: Arc<EnvFile>, on_change: OnChange) -> EnvFileWriter {
        EnvFileWriter { file, on_change }
    }

    fn write(&self, changes: &[Change]) -> anyhow::Result<Vec<Done>> {
        let path = &self.file.path;
        let directory = parent_dir(path);
        let _lock = lock_directory(&directory)?;
        remove_leftovers(path, &directory);

        let current = match fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot be read", path.display())),
        };
        let unchanged = match &current {
            Some(bytes) => self.file.exists && bytes == &self.file.bytes,
            None => !self.file.exists,
        };
        let (mut document, exists) = match (unchanged, self.on_change) {
            (true, _) => (self.file.document.clone(), self.file.exists),
            (false, OnChange::Refuse) => anyhow::bail!(
                "{} changed after the plan was made; nothing was written to it. Run apply again \
                 to plan against the new content",
                path.display()
            ),
            (false, OnChange::Replan) => {
                let document = Document::parse(current.as_deref().unwrap_or_default());
                check_document(path, &document)?;
                tracing::info!(
                    path = %path.display(),
                    "the file changed after the plan was made; planning its variables again"
                );
                (document, current.is_some())
            }
        };

        let mut done = Vec::with_capacity(changes.len());
        let mut edited = false;
        for change in changes {
            let name = change.address.name().unwrap_or_default();
            let now = document.get(name).map(|entry| entry.value.clone());
            let value = match &change.after {
                // A generated secret is created once and never replaced.
                Some(Value::Generated) if !unchanged && now.is_some() => None,
                Some(Value::Generated) => Some(generate_secret()?),
                Some(value) => {
                    let text = value.text().unwrap_or_default();
                    (unchanged || now.as_deref() != Some(text)).then(|| text.to_owned())
                }
                None => anyhow::bail!("{}: nothing to write", change.address),
            };
            let Some(value) = value else {
                done.push(Done::with_note(Action::NoOp, "already done"));
                continue;
            };
            document
                .set(name, &value)
                .with_context(|| format!("{}: cannot write {name}", path.display()))?;
            edited = true;
            done.push(Done::new(match (unchanged, now) {
                (true, _) => change.action,
                (false, None) => Action::Create,
                (false, Some(_)) => Action::Update,
            }));
        }

        if edited {
            replace_atomically(path, &directory, document.as_bytes(), exists)?;
        }
        Ok(done)
    }
}

impl Writer for EnvFileWriter {
    fn owns(&self, kind: ResourceKind) -> bool {
        kind == ResourceKind::EnvFileVar
    }

    async fn apply(&self, changes: Vec<Change>) -> Vec<Outcome> {
        // One write for all variables: either every planned line lands or none does.
        match self.write(&changes) {
            Ok(done) => changes
                .into_iter()
                .zip(done)
                .map(|(change, done)| Outcome {
                    change,
                    result: Ok(done),
                })
                .collect(),
            Err(error) => {
                let message = format!("{error:#}");
                changes
                    .into_iter()
                    .map(|change| Outcome {
                        change,
                        result: Err(anyhow::anyhow!("{message}")),
                    })
                    .collect()
            }
        }
    }
}

/// 32 random bytes, base64url without padding: the cookie password `@workos-inc/authkit-*`
/// libraries expect (at least 32 characters).
pub fn generate_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system's random source failed: {e}"))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// An advisory lock on the directory rather than on the file: the file is replaced by rename,
/// so a lock on its old inode would not stop a second writer that opened the new one.
fn lock_directory(directory: &Path) -> anyhow::Result<File> {
    let handle = File::open(directory)
        .with_context(|| format!("{}: cannot open to lock it", directory.display()))?;
    handle
        .lock()
        .with_context(|| format!("{}: cannot take the lock", directory.display()))?;
    Ok(handle)
}

/// The temporary files of writes that never reached their rename:
/// `<name>.authkit-sync-XXXXXX.tmp`, named so that no file of anyone else's can match. Called
/// under the lock, so no writer of ours is using them. A file that cannot be removed is left
/// for the next run.
fn remove_leftovers(path: &Path, directory: &Path) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    let prefix = temp_prefix(name);
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(random) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && random.len() == 6 && random.chars().all(|c| c.is_ascii_alphanumeric()) {
            tracing::info!(file = %entry.path().display(), "removing a crashed write's leftover");
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn temp_prefix(name: &str) -> String {
    format!("{name}.authkit-sync-")
}

fn replace_atomically(
    path: &Path,
    directory: &Path,
    bytes: &[u8],
    existed: bool,
) -> anyhow::Result<()> {
    let context = || format!("{}: cannot be written", path.display());
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(".env.local");
    let prefix = temp_prefix(name);
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .rand_bytes(6)
        .tempfile_in(directory)
        .with_context(context)?;
    temp.write_all(bytes).with_context(context)?;
    set_mode(temp.as_file(), path, existed).with_context(context)?;
    temp.as_file().sync_all().with_context(context)?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(context)?;
    // The rename is durable only once the directory entry is on disk too.
    if let Ok(dir) = File::open(directory) {
        let _ = dir.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &File, original: &Path, existed: bool) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = if existed {
        fs::metadata(original)?.permissions().mode() & 0o7777
    } else {
        0o600
    };
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _original: &Path, _existed: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_are_43_url_safe_characters() {
        let a = generate_secret().unwrap();
        assert_eq!(a.len(), 43);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, generate_secret().unwrap());
    }

    fn change(name: &str, action: Action, after: Value) -> Change {
        Change {
            address: Address::new(ResourceKind::EnvFileVar, name),
            action,
            before: None,
            after: Some(after),
            reason: None,
            remote_id: None,
        }
    }

    fn text(value: &str) -> Value {
        Value::Text(value.to_owned())
    }

    /// A writer for `.env.local` holding `before`, which then holds `meanwhile`.
    fn setup(
        before: &str,
        meanwhile: &str,
        on_change: OnChange,
    ) -> (tempfile::TempDir, EnvFileWriter) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env.local");
        fs::write(&path, before).unwrap();
        let file = Arc::new(EnvFile::load(&path).unwrap());
        fs::write(&path, meanwhile).unwrap();
        (dir, EnvFileWriter::new(file, on_change))
    }

    #[test]
    fn a_fresh_apply_plans_a_changed_file_again_and_reports_what_was_done() {
        let (dir, writer) = setup(
            "A=old\n",
            "# added meanwhile\nA=new\nB=b\nSECRET=kept\n",
            OnChange::Replan,
        );
        let done = writer
            .write(&[
                change("A", Action::Update, text("new")),
                change("B", Action::Create, text("b")),
                change("C", Action::Create, text("c")),
                change("SECRET", Action::Create, Value::Generated),
            ])
            .unwrap();
        let notes: Vec<_> = done.iter().map(|d| (d.action, d.note.as_deref())).collect();
        assert_eq!(
            notes,
            [
                (Action::NoOp, Some("already done")),
                (Action::NoOp, Some("already done")),
                (Action::Create, None),
                (Action::NoOp, Some("already done")),
            ]
        );
        let written = fs::read_to_string(dir.path().join(".env.local")).unwrap();
        assert_eq!(written, "# added meanwhile\nA=new\nB=b\nSECRET=kept\nC=c\n");
    }

    #[test]
    fn a_changed_file_that_already_holds_everything_is_not_rewritten() {
        let (dir, writer) = setup("", "A=a\n", OnChange::Replan);
        let path = dir.path().join(".env.local");
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        let done = writer
            .write(&[change("A", Action::Create, text("a"))])
            .unwrap();
        assert_eq!(done[0].note.as_deref(), Some("already done"));
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn a_saved_plan_refuses_a_changed_file() {
        let (dir, writer) = setup("A=old\n", "A=new\n", OnChange::Refuse);
        let error = writer
            .write(&[change("A", Action::Update, text("new"))])
            .unwrap_err()
            .to_string();
        assert!(error.contains("changed after the plan was made"), "{error}");
        let written = fs::read_to_string(dir.path().join(".env.local")).unwrap();
        assert_eq!(written, "A=new\n");
    }

    #[test]
    fn a_changed_file_that_dotenv_would_misread_is_not_touched() {
        let (dir, writer) = setup("A=old\n", "A='open\n", OnChange::Replan);
        let error = writer
            .write(&[change("A", Action::Update, text("new"))])
            .unwrap_err()
            .to_string();
        assert!(error.contains("never closed"), "{error}");
        let written = fs::read_to_string(dir.path().join(".env.local")).unwrap();
        assert_eq!(written, "A='open\n");
    }

    #[test]
    fn leftovers_of_crashed_writes_are_removed_and_nothing_else() {
        let (dir, writer) = setup("", "", OnChange::Replan);
        let leftover = dir.path().join(".env.local.authkit-sync-a1B2c3.tmp");
        let unrelated = [
            ".env.local.backup.tmp",
            ".env.local.authkit-sync-.tmp",
            ".env.production.authkit-sync-a1B2c3.tmp",
        ];
        fs::write(&leftover, "WORKOS_API_KEY=sk_test_half").unwrap();
        for name in unrelated {
            fs::write(dir.path().join(name), "").unwrap();
        }
        writer
            .write(&[change("A", Action::Create, text("a"))])
            .unwrap();
        assert!(!leftover.exists());
        for name in unrelated {
            assert!(dir.path().join(name).exists(), "{name} was removed");
        }
        // .env.local and the three unrelated files.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn a_directory_in_place_of_the_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env.local");
        fs::create_dir(&path).unwrap();
        let error = EnvFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("is a directory"), "{error}");
    }
}

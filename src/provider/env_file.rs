//! The `.env.local` provider: reads variables the way dotenv does and writes the lines the
//! plan names, leaving every other byte of the file as it was.
//!
//! A write happens once per apply: under an advisory lock on the project directory, after
//! checking that the file still holds the bytes the plan was made from, through a temporary
//! file in the same directory that is renamed over the original. A crash therefore leaves the
//! old or the new file, never a mix, and two runs cannot interleave their edits.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use base64::Engine as _;

use crate::dotenv::{Diagnostic, Document};
use crate::plan::Change;
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
        let path = self.path.display().to_string();
        match self.document.diagnostics().into_iter().next() {
            None => Ok(()),
            Some(Diagnostic::NotAnAssignment { line }) => Err(EnvFileError::Malformed {
                path,
                line,
                problem: "this line is not a `NAME=value` assignment, so dotenv ignores it"
                    .to_owned(),
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

/// Writes the planned variables into the file the plan was made from.
pub struct EnvFileWriter {
    file: Arc<EnvFile>,
}

impl EnvFileWriter {
    pub fn new(file: Arc<EnvFile>) -> EnvFileWriter {
        EnvFileWriter { file }
    }

    fn write(&self, changes: &[Change]) -> anyhow::Result<Vec<Done>> {
        let path = &self.file.path;
        let directory = parent_dir(path);
        let _lock = lock_directory(&directory)?;

        let current = match fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("{}: cannot be read", path.display())),
        };
        let unchanged = match &current {
            Some(bytes) => self.file.exists && bytes == &self.file.bytes,
            None => !self.file.exists,
        };
        if !unchanged {
            anyhow::bail!(
                "{} changed after the plan was made; nothing was written to it. Run apply again \
                 to plan against the new content",
                path.display()
            );
        }

        let mut document = self.file.document.clone();
        let mut done = Vec::with_capacity(changes.len());
        for change in changes {
            let name = change.address.name().unwrap_or_default();
            let value = match &change.after {
                Some(Value::Generated) => generate_secret()?,
                Some(value) => value.text().unwrap_or_default().to_owned(),
                None => anyhow::bail!("{}: nothing to write", change.address),
            };
            document
                .set(name, &value)
                .with_context(|| format!("{}: cannot write {name}", path.display()))?;
            done.push(Done::new(change.action));
        }

        replace_atomically(path, &directory, document.as_bytes(), self.file.exists)?;
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

fn replace_atomically(
    path: &Path,
    directory: &Path,
    bytes: &[u8],
    existed: bool,
) -> anyhow::Result<()> {
    let context = || format!("{}: cannot be written", path.display());
    let mut temp = tempfile::Builder::new()
        .prefix(".env.local.")
        .suffix(".tmp")
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

    #[test]
    fn a_directory_in_place_of_the_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env.local");
        fs::create_dir(&path).unwrap();
        let error = EnvFile::load(&path).unwrap_err().to_string();
        assert!(error.contains("is a directory"), "{error}");
    }
}

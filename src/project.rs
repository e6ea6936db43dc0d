//! A project on disk: its `convex.json`, `.env.local`, `.env` and `package.json`, read once at
//! the start of a run so that every stage sees the same bytes.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::config::{self, AuthKit};
use crate::framework::Framework;
use crate::provider::env_file::EnvFile;

pub const CONFIG_FILE: &str = "convex.json";
pub const ENV_LOCAL: &str = ".env.local";
pub const ENV: &str = ".env";

pub struct Project {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub auth_kit: Option<AuthKit>,
    pub env_local: Arc<EnvFile>,
    pub env: EnvFile,
    pub framework: Option<Framework>,
}

impl Project {
    pub fn load(dir: &Path) -> anyhow::Result<Project> {
        if !dir.is_dir() {
            anyhow::bail!(
                "{}: no such project directory; pass --dir DIR",
                dir.display()
            );
        }
        let config_path = dir.join(CONFIG_FILE);
        let bytes = match fs::read(&config_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => anyhow::bail!(
                "{}: not found; authkit-sync reads the authKit section of the project's \
                 convex.json (pass --dir to point at the project)",
                config_path.display()
            ),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("{}: cannot be read", config_path.display()));
            }
        };
        let auth_kit = config::load(&config_path, &bytes)?;

        let env_local = Arc::new(EnvFile::load(&dir.join(ENV_LOCAL))?);
        let env = EnvFile::load(&dir.join(ENV))?;

        let package_path = dir.join("package.json");
        let framework = match fs::read(&package_path) {
            Ok(bytes) => Framework::detect(&bytes).with_context(|| {
                format!("{}: is not a valid package.json", package_path.display())
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("{}: cannot be read", package_path.display()));
            }
        };

        Ok(Project {
            dir: dir.to_owned(),
            config_path,
            auth_kit,
            env_local,
            env,
            framework,
        })
    }
}

//! The `authKit` section of `convex.json`: its typed model, its JSON Schema, and the loader that
//! checks it.
//!
//! `load` is the only way in: it reports every problem with its JSON path at once, so a user
//! fixes a broken file in one round trip. Everything downstream works on the typed `AuthKit`,
//! usually through `AuthKit::section` for the target of the run.

mod error;
mod load;
mod locate;
mod model;
mod path;
mod validate;

pub use error::{ConfigError, ConfigErrors};
pub use load::{AUTH_KIT_KEY, load};
pub use model::{
    AuthKit, Configure, DevSection, Disabled, EnvironmentType, LocalEnvVars, PreviewSection,
    ProdSection, SectionView, VAR_NAME_PATTERN, json_schema,
};

//! Which `authKit` section a run works on: `dev`, `preview` or `prod`.
//!
//! The target comes from `--target`, else from the prefix of `CONVEX_DEPLOY_KEY` (the key a
//! hosting provider hands to `npx convex deploy`), else `dev`. Only `dev` owns a `.env.local`.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Dev,
    Preview,
    Prod,
}

impl Target {
    pub const ALL: [Target; 3] = [Target::Dev, Target::Preview, Target::Prod];

    pub fn as_str(self) -> &'static str {
        match self {
            Target::Dev => "dev",
            Target::Preview => "preview",
            Target::Prod => "prod",
        }
    }

    /// Whether this target writes `.env.local` (and may provision an environment).
    pub fn is_local(self) -> bool {
        self == Target::Dev
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown target `{s}`: expected dev, preview or prod"))
    }
}

/// Chooses the target: the flag, else the prefix of `CONVEX_DEPLOY_KEY`, else `dev`. The key's
/// value is never echoed, only its kind.
pub fn select(flag: Option<Target>, deploy_key: Option<&str>) -> Result<Target, String> {
    if let Some(target) = flag {
        return Ok(target);
    }
    let Some(key) = deploy_key.filter(|k| !k.is_empty()) else {
        return Ok(Target::Dev);
    };
    let Some((kind, _)) = key.split_once(':').filter(|(_, rest)| rest.contains('|')) else {
        return Err(
            "CONVEX_DEPLOY_KEY is malformed: expected `<prod|preview|dev>:<name>|<key>` \
             as shown in the Convex dashboard; fix the variable or pass --target"
                .to_owned(),
        );
    };
    match kind {
        "prod" => Ok(Target::Prod),
        "preview" => Ok(Target::Preview),
        "dev" => Ok(Target::Dev),
        "project" => Err(
            "CONVEX_DEPLOY_KEY is a project key, which names no deployment; pass \
             --target dev, preview or prod"
                .to_owned(),
        ),
        other => Err(format!(
            "CONVEX_DEPLOY_KEY starts with `{other}:`, which is not prod, preview or dev; pass \
             --target"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_comes_from_flag_then_deploy_key_then_dev() {
        assert_eq!(
            select(Some(Target::Preview), Some("prod:x|y")),
            Ok(Target::Preview)
        );
        assert_eq!(
            select(None, Some("prod:happy-otter-123|secret")),
            Ok(Target::Prod)
        );
        assert_eq!(
            select(None, Some("preview:team:proj|secret")),
            Ok(Target::Preview)
        );
        assert_eq!(
            select(None, Some("dev:happy-otter-123|secret")),
            Ok(Target::Dev)
        );
        assert_eq!(select(None, None), Ok(Target::Dev));
        assert_eq!(select(None, Some("")), Ok(Target::Dev));
    }

    #[test]
    fn bad_deploy_keys_name_the_variable_but_not_the_secret() {
        for key in ["nonsense-s3cr3t", "project:t:p|s3cr3t", "staging:x|s3cr3t"] {
            let error = select(None, Some(key)).unwrap_err();
            assert!(error.contains("CONVEX_DEPLOY_KEY"), "{error}");
            assert!(!error.contains("s3cr3t"), "{error}");
        }
    }
}

//! The typed `authKit` section of `convex.json`, and the JSON Schema generated from it.
//!
//! These types are the single description of the section's shape: serde reads them, schemars
//! turns them into the schema that `authkit-sync schema` prints for editors, and the validator in
//! `validate.rs` checks its key lists against that schema in a test. Values that mean "nothing"
//! are normalised on the way in (`false` and `""` become `None`) so that later stages have one
//! spelling per meaning.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, generate::SchemaSettings, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::target::Target;

/// The names a `localEnvVars` key may take, as a regular expression for the schema. The loader
/// checks the same shape with `template::is_var_name`.
pub const VAR_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";

/// Automatic WorkOS AuthKit configuration for the deployments of this Convex project.
///
/// A section is active when its key is present, even as `{}`: an active section resolves (and
/// for dev may provision) WorkOS credentials. Absent sections are left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "authKit")]
pub struct AuthKit {
    /// Settings for dev deployments (`npx convex dev`, the `dev` target).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "DevSection")]
    pub dev: Option<DevSection>,

    /// Settings for preview deployments (the `preview` target).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "PreviewSection")]
    pub preview: Option<PreviewSection>,

    /// Settings for the production deployment (the `prod` target).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "ProdSection")]
    pub prod: Option<ProdSection>,
}

/// The `dev` section: the only one that writes `.env.local`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "dev section")]
pub struct DevSection {
    /// WorkOS environment settings to apply, or `false` to configure nothing.
    #[serde(
        deserialize_with = "false_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "false_or::<Configure>")]
    pub configure: Option<Configure>,

    /// Variables to write to `.env.local` (name to template), or `false` to write none.
    #[serde(
        deserialize_with = "false_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "false_or::<LocalEnvVars>")]
    pub local_env_vars: Option<LocalEnvVars>,
}

/// The `preview` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "preview section")]
pub struct PreviewSection {
    /// WorkOS environment settings to apply, or `false` to configure nothing.
    #[serde(
        deserialize_with = "false_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "false_or::<Configure>")]
    pub configure: Option<Configure>,

    /// Only `false`: preview deployments set their variables in the hosting platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Disabled")]
    pub local_env_vars: Option<Disabled>,
}

/// The `prod` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "prod section")]
pub struct ProdSection {
    /// WorkOS environment settings to apply, or `false` to configure nothing.
    #[serde(
        deserialize_with = "false_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(schema_with = "false_or::<Configure>")]
    pub configure: Option<Configure>,

    /// Only `false`: the production deployment sets its variables in the hosting platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Disabled")]
    pub local_env_vars: Option<Disabled>,

    /// The kind of WorkOS environment prod must use; production when omitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "EnvironmentType")]
    pub environment_type: Option<EnvironmentType>,
}

/// Settings applied to the WorkOS environment. Every value may use `${authEnv.NAME}` and
/// `${buildEnv.NAME}` templates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
#[schemars(title = "configure")]
pub struct Configure {
    /// Redirect URIs to register, e.g. `http://localhost:3000/callback`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1)))]
    pub redirect_uris: Vec<String>,

    /// The app homepage URL; `""` means none.
    #[serde(
        deserialize_with = "empty_as_none",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String")]
    pub app_homepage_url: Option<String>,

    /// CORS origins to allow, e.g. `http://localhost:3000`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1)))]
    pub cors_origins: Vec<String>,
}

/// The kind of WorkOS environment the production deployment must use.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
#[schemars(title = "environmentType")]
pub enum EnvironmentType {
    Development,
    Staging,
    Production,
}

impl EnvironmentType {
    pub const ALL: [EnvironmentType; 3] = [
        EnvironmentType::Development,
        EnvironmentType::Staging,
        EnvironmentType::Production,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnvironmentType::Development => "development",
            EnvironmentType::Staging => "staging",
            EnvironmentType::Production => "production",
        }
    }

    /// Whether WorkOS treats the environment as production (live keys, `sk_live_`).
    pub fn is_production(self) -> bool {
        self == EnvironmentType::Production
    }
}

impl fmt::Display for EnvironmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `.env.local` variables in the order `convex.json` lists them.
///
/// A `Vec` rather than a map because the order decides the order of lines appended to
/// `.env.local`, and a user reading the plan expects the order they wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalEnvVars(Vec<(String, String)>);

impl LocalEnvVars {
    /// Builds the list from pairs; a repeated name keeps its first position and its last value,
    /// as a JSON object with a duplicate key does.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut vars = LocalEnvVars::default();
        for (name, template) in pairs {
            vars.insert(name, template);
        }
        vars
    }

    fn insert(&mut self, name: String, template: String) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = template,
            None => self.0.push((name, template)),
        }
    }

    /// `(name, template)` pairs in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, t)| (n.as_str(), t.as_str()))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_str())
    }

    /// The template for `name`, if listed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for LocalEnvVars {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, template) in &self.0 {
            map.serialize_entry(name, template)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LocalEnvVars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;

        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = LocalEnvVars;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping variable names to template strings")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut vars = LocalEnvVars::default();
                while let Some((name, template)) = access.next_entry::<String, String>()? {
                    vars.insert(name, template);
                }
                Ok(vars)
            }
        }

        deserializer.deserialize_map(OrderedVisitor)
    }
}

impl JsonSchema for LocalEnvVars {
    fn schema_name() -> Cow<'static, str> {
        "LocalEnvVars".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // `patternProperties` plus `additionalProperties: false` says "object of strings" and
        // also lets editors flag a bad variable name, keeping the schema closed everywhere.
        json_schema!({
            "title": "localEnvVars",
            "description": "Variables written to `.env.local`: name to template string.",
            "type": "object",
            "patternProperties": { VAR_NAME_PATTERN: { "type": "string" } },
            "additionalProperties": false,
        })
    }
}

/// The literal `false`: the only value `localEnvVars` may take outside the dev section.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Disabled;

impl Serialize for Disabled {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(false)
    }
}

impl<'de> Deserialize<'de> for Disabled {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match bool::deserialize(deserializer)? {
            false => Ok(Disabled),
            true => Err(de::Error::custom("only `false` is allowed here")),
        }
    }
}

impl JsonSchema for Disabled {
    fn schema_name() -> Cow<'static, str> {
        "Disabled".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "boolean", "const": false })
    }
}

/// The schema of a value that is either `false` or a `T`.
fn false_or<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "boolean", "const": false },
            generator.subschema_for::<T>(),
        ]
    })
}

/// Reads `false` as `None` and anything else as a `T`, so that `false` and an omitted key have
/// one representation. `true` is refused: there is nothing for it to turn on.
fn false_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum FalseOr<T> {
        Flag(bool),
        Value(T),
    }

    match FalseOr::<T>::deserialize(deserializer)? {
        FalseOr::Flag(false) => Ok(None),
        FalseOr::Flag(true) => Err(de::Error::custom("expected `false` or an object")),
        FalseOr::Value(value) => Ok(Some(value)),
    }
}

/// Reads `""` as `None`: the Convex CLI treats an empty homepage URL as absent.
fn empty_as_none<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// What one target needs from its section, whatever the section's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionView<'a> {
    pub target: Target,
    /// `None` when `configure` is omitted or `false`.
    pub configure: Option<&'a Configure>,
    /// The `.env.local` variables; always empty outside dev.
    pub local_env_vars: &'a LocalEnvVars,
    /// Whether `localEnvVars` is an object (even `{}`), i.e. `.env.local` is managed at all.
    pub local_env_vars_set: bool,
    /// Only ever set for prod.
    pub environment_type: Option<EnvironmentType>,
}

/// Shared by every view without variables, so a view can always hand out a reference.
static NO_VARS: LocalEnvVars = LocalEnvVars(Vec::new());

impl<'a> SectionView<'a> {
    /// A view with only `configure`, the one setting every section shares.
    fn plain(target: Target, configure: Option<&'a Configure>) -> Self {
        SectionView {
            target,
            configure,
            local_env_vars: &NO_VARS,
            local_env_vars_set: false,
            environment_type: None,
        }
    }
}

impl AuthKit {
    /// The section for `target`, or `None` when its key is absent (the section is inactive).
    pub fn section(&self, target: Target) -> Option<SectionView<'_>> {
        match target {
            Target::Dev => self.dev.as_ref().map(|dev| SectionView {
                local_env_vars: dev.local_env_vars.as_ref().unwrap_or(&NO_VARS),
                local_env_vars_set: dev.local_env_vars.is_some(),
                ..SectionView::plain(target, dev.configure.as_ref())
            }),
            Target::Preview => {
                (self.preview.as_ref()).map(|p| SectionView::plain(target, p.configure.as_ref()))
            }
            Target::Prod => self.prod.as_ref().map(|prod| SectionView {
                environment_type: prod.environment_type,
                ..SectionView::plain(target, prod.configure.as_ref())
            }),
        }
    }

    /// Whether the section for `target` is present (even as `{}`).
    pub fn is_active(&self, target: Target) -> bool {
        self.section(target).is_some()
    }
}

/// The JSON Schema (draft 2020-12) of the `authKit` object, for editors.
pub fn json_schema() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    generator.into_root_schema_for::<AuthKit>().to_value()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> AuthKit {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn false_omitted_and_empty_object() {
        let omitted = parse(json!({ "dev": {} }));
        let disabled = parse(json!({ "dev": { "configure": false, "localEnvVars": false } }));
        let empty = parse(json!({ "dev": { "configure": {}, "localEnvVars": {} } }));

        assert_eq!(omitted, disabled);
        let view = disabled.section(Target::Dev).unwrap();
        assert_eq!(view.configure, None);
        assert!(!view.local_env_vars_set);

        let view = empty.section(Target::Dev).unwrap();
        assert_eq!(view.configure, Some(&Configure::default()));
        assert!(view.local_env_vars_set);
        assert!(view.local_env_vars.is_empty());
    }

    #[test]
    fn a_present_section_is_active_even_when_empty() {
        let config = parse(json!({ "preview": {} }));

        assert!(config.is_active(Target::Preview));
        assert!(!config.is_active(Target::Dev));
        assert!(!config.is_active(Target::Prod));
        assert_eq!(config.section(Target::Dev), None);
        let view = config.section(Target::Preview).unwrap();
        assert_eq!(view.target, Target::Preview);
        assert_eq!(view.configure, None);
    }

    #[test]
    fn empty_homepage_is_absent() {
        let config = parse(json!({ "prod": { "configure": { "appHomepageUrl": "" } } }));
        let configure = config.section(Target::Prod).unwrap().configure.unwrap();
        assert_eq!(configure.app_homepage_url, None);

        let config = parse(json!({ "prod": { "configure": { "appHomepageUrl": "https://a" } } }));
        let configure = config.section(Target::Prod).unwrap().configure.unwrap();
        assert_eq!(configure.app_homepage_url.as_deref(), Some("https://a"));
    }

    #[test]
    fn true_is_not_false() {
        let err = serde_json::from_value::<AuthKit>(json!({ "dev": { "configure": true } }));
        assert!(err.is_err());
        let err = serde_json::from_value::<AuthKit>(json!({ "prod": { "localEnvVars": true } }));
        assert!(err.is_err());
    }

    #[test]
    fn local_env_vars_keep_file_order() {
        let config = parse(json!({ "dev": { "localEnvVars": {
            "Z": "${authEnv.WORKOS_CLIENT_ID}", "A": "a", "M": "m"
        } } }));
        let view = config.section(Target::Dev).unwrap();

        assert_eq!(
            view.local_env_vars.names().collect::<Vec<_>>(),
            ["Z", "A", "M"]
        );
        assert_eq!(view.local_env_vars.get("A"), Some("a"));
        assert_eq!(view.local_env_vars.len(), 3);

        let back = serde_json::to_string(&config).unwrap();
        assert_eq!(
            back,
            r#"{"dev":{"localEnvVars":{"Z":"${authEnv.WORKOS_CLIENT_ID}","A":"a","M":"m"}}}"#
        );
    }

    #[test]
    fn environment_type_only_in_prod_view() {
        let config = parse(json!({ "dev": {}, "prod": { "environmentType": "staging" } }));

        assert_eq!(config.section(Target::Dev).unwrap().environment_type, None);
        let prod = config.section(Target::Prod).unwrap();
        assert_eq!(prod.environment_type, Some(EnvironmentType::Staging));
        assert!(!EnvironmentType::Staging.is_production());
        assert!(prod.local_env_vars.is_empty());
    }

    #[test]
    fn environment_type_names_match_serde() {
        for ty in EnvironmentType::ALL {
            assert_eq!(serde_json::to_value(ty).unwrap(), json!(ty.as_str()));
        }
    }
}

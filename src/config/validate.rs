//! The hand-written check of the `authKit` value that reports every problem at once.
//!
//! Deserializing straight into the model would stop at the first problem and speak serde's
//! language ("invalid type: integer, expected a sequence"). This walk instead visits the whole
//! `serde_json::Value`, says what was expected and found at each JSON path, and suggests the
//! closest known key for a typo. Only when it finds nothing is the value handed to serde.
//!
//! The key lists below must describe the same shape as the model in `model.rs`; a test compares
//! them with the `properties` of the generated schema so the two cannot drift apart.

use serde_json::Value;

use super::path::JsonPath;
use crate::target::Target;
use crate::template::{self, is_var_name};

/// Keys of a `dev` section.
pub(crate) const DEV_KEYS: &[&str] = &[CONFIGURE, LOCAL_ENV_VARS];
/// Keys of a `preview` section.
pub(crate) const PREVIEW_KEYS: &[&str] = &[CONFIGURE, LOCAL_ENV_VARS];
/// Keys of a `prod` section.
pub(crate) const PROD_KEYS: &[&str] = &[CONFIGURE, LOCAL_ENV_VARS, ENVIRONMENT_TYPE];
/// Keys of a `configure` object.
pub(crate) const CONFIGURE_KEYS: &[&str] = &[REDIRECT_URIS, APP_HOMEPAGE_URL, CORS_ORIGINS];

const CONFIGURE: &str = "configure";
const LOCAL_ENV_VARS: &str = "localEnvVars";
const ENVIRONMENT_TYPE: &str = "environmentType";
const REDIRECT_URIS: &str = "redirectUris";
const APP_HOMEPAGE_URL: &str = "appHomepageUrl";
const CORS_ORIGINS: &str = "corsOrigins";

/// How similar (Jaro-Winkler, case-insensitive) an unknown key must be to a known one before it
/// is suggested. Chosen so `redirectURIs`, `cors_origins` and `develop` get a suggestion while
/// `staging` (which resembles no section) does not.
const SUGGESTION_THRESHOLD: f64 = 0.8;

/// One problem found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: JsonPath,
    pub(crate) message: String,
    /// Whether the problem is the key itself (an unknown or misplaced key) rather than its value;
    /// the error then points at the key in the source.
    pub(crate) at_key: bool,
}

/// The keys allowed in the section for `target`.
pub(crate) fn section_keys(target: Target) -> &'static [&'static str] {
    match target {
        Target::Dev => DEV_KEYS,
        Target::Preview => PREVIEW_KEYS,
        Target::Prod => PROD_KEYS,
    }
}

/// Checks the value of `authKit` (found at `path`) and returns every problem, in file order.
pub(crate) fn validate(value: &Value, path: &JsonPath) -> Vec<Problem> {
    let mut walk = Walk::default();
    walk.auth_kit(value, path);
    walk.problems
}

#[derive(Default)]
struct Walk {
    problems: Vec<Problem>,
}

impl Walk {
    fn report(&mut self, path: JsonPath, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
            at_key: false,
        });
    }

    fn report_key(&mut self, path: JsonPath, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
            at_key: true,
        });
    }

    fn auth_kit(&mut self, value: &Value, path: &JsonPath) {
        let Value::Object(sections) = value else {
            let message = format!(
                "expected an object with optional `dev`, `preview` and `prod` sections, found \
                 {}; remove `authKit` to turn automatic AuthKit configuration off",
                describe(value)
            );
            return self.report(path.clone(), message);
        };

        for (key, section) in sections {
            let path = path.key(key);
            match Target::ALL.into_iter().find(|t| t.as_str() == key) {
                Some(target) => self.section(target, section, &path),
                None => {
                    let names = Target::ALL.map(Target::as_str);
                    let message = format!(
                        "unknown section `{key}`: {}",
                        hint(key, &names, "the sections are")
                    );
                    self.report_key(path, message);
                }
            }
        }
    }

    fn section(&mut self, target: Target, value: &Value, path: &JsonPath) {
        let Value::Object(keys) = value else {
            let message = format!(
                "expected an object, found {}; write `{{}}` to activate the {target} section \
                 with nothing to configure, or remove the key to leave it inactive",
                describe(value)
            );
            return self.report(path.clone(), message);
        };

        for (key, value) in keys {
            let path = path.key(key);
            match key.as_str() {
                CONFIGURE => self.configure(value, &path),
                LOCAL_ENV_VARS if target == Target::Dev => self.local_env_vars(value, &path),
                LOCAL_ENV_VARS => self.local_env_vars_disabled(value, path),
                ENVIRONMENT_TYPE if target == Target::Prod => self.environment_type(value, path),
                ENVIRONMENT_TYPE => self.report_key(
                    path,
                    format!(
                        "`environmentType` is only allowed in the prod section: remove it from \
                         the {target} section ({target} deployments always use a non-production \
                         WorkOS environment)"
                    ),
                ),
                _ => self.unknown_key(key, section_keys(target), path),
            }
        }
    }

    fn configure(&mut self, value: &Value, path: &JsonPath) {
        let keys = match value {
            Value::Bool(false) => return,
            Value::Object(keys) => keys,
            _ => {
                let message = format!(
                    "expected `false` or an object with {}, found {}",
                    list(CONFIGURE_KEYS, "and"),
                    describe(value)
                );
                return self.report(path.clone(), message);
            }
        };

        for (key, value) in keys {
            let path = path.key(key);
            match key.as_str() {
                REDIRECT_URIS => self.template_list(value, &path, "redirect URI"),
                CORS_ORIGINS => self.template_list(value, &path, "CORS origin"),
                APP_HOMEPAGE_URL => match value {
                    // `""` is the documented way to say "no homepage".
                    Value::String(text) if text.is_empty() => {}
                    Value::String(text) => self.template(text, path),
                    _ => self.report(
                        path,
                        format!(
                            "expected a string, found {}; write the URL in quotes, or remove \
                             the key for no homepage",
                            describe(value)
                        ),
                    ),
                },
                _ => self.unknown_key(key, CONFIGURE_KEYS, path),
            }
        }
    }

    /// An array of non-empty template strings; `what` names one element in messages.
    fn template_list(&mut self, value: &Value, path: &JsonPath, what: &str) {
        let Value::Array(items) = value else {
            let hint = match value {
                Value::String(_) => "; wrap the value in `[` `]`",
                _ => "",
            };
            let message = format!(
                "expected an array of strings, found {}{hint}",
                describe(value)
            );
            return self.report(path.clone(), message);
        };

        for (index, item) in items.iter().enumerate() {
            let path = path.index(index);
            match item {
                Value::String(text) if text.is_empty() => self.report(
                    path,
                    format!("empty {what}: remove the entry or write a value"),
                ),
                Value::String(text) => self.template(text, path),
                _ => self.report(
                    path,
                    format!(
                        "expected a string, found {}; write the {what} in quotes",
                        describe(item)
                    ),
                ),
            }
        }
    }

    fn local_env_vars(&mut self, value: &Value, path: &JsonPath) {
        let vars = match value {
            Value::Bool(false) => return,
            Value::Object(vars) => vars,
            _ => {
                let message = format!(
                    "expected `false` or an object mapping variable names to template strings, \
                     found {}",
                    describe(value)
                );
                return self.report(path.clone(), message);
            }
        };

        for (name, template) in vars {
            let path = path.key(name);
            if !is_var_name(name) {
                let message = format!(
                    "`{name}` is not a valid environment variable name: use only ASCII letters, \
                     digits and `_`, not starting with a digit"
                );
                self.report_key(path.clone(), message);
            }
            // Only values are templates: a name is written to `.env.local` as it is.
            match template {
                Value::String(text) => self.template(text, path),
                _ => self.report(
                    path,
                    format!(
                        "expected a template string, found {}; write the value in quotes",
                        describe(template)
                    ),
                ),
            }
        }
    }

    fn local_env_vars_disabled(&mut self, value: &Value, path: JsonPath) {
        // The Convex schema rejects even `{}` here, so this does too: an empty object reads as
        // "manage .env.local" and would mislead whoever copies the section to dev.
        if *value != Value::Bool(false) {
            self.report(
                path,
                ".env.local variables are only supported in the dev section: remove \
                 `localEnvVars` (or set it to `false`); preview and prod deployments must set \
                 their environment variables in the hosting platform",
            );
        }
    }

    fn environment_type(&mut self, value: &Value, path: JsonPath) {
        let allowed = crate::config::EnvironmentType::ALL.map(|t| t.as_str());
        match value {
            Value::String(text) if allowed.contains(&text.as_str()) => {}
            Value::String(text) => {
                let message = match suggest(text, &allowed) {
                    Some(close) => format!(
                        "unknown environment type `{text}`: did you mean `{close}`? (expected {})",
                        list(&allowed, "or")
                    ),
                    None => format!(
                        "unknown environment type `{text}`: expected {}",
                        list(&allowed, "or")
                    ),
                };
                self.report(path, message);
            }
            _ => {
                let message = format!(
                    "expected a string ({}), found {}",
                    list(&allowed, "or"),
                    describe(value)
                );
                self.report(path, message);
            }
        }
    }

    fn template(&mut self, text: &str, path: JsonPath) {
        if let Err(err) = template::parse(text) {
            self.report(path, err.to_string());
        }
    }

    fn unknown_key(&mut self, key: &str, allowed: &[&str], path: JsonPath) {
        self.report_key(
            path,
            format!(
                "unknown key `{key}`: {}",
                hint(key, allowed, "the keys allowed here are")
            ),
        );
    }
}

/// What to do about an unknown key: the closest allowed key if one is close, and always the
/// full list so that a user who meant something else sees the choices.
fn hint(key: &str, allowed: &[&str], intro: &str) -> String {
    let all = list(allowed, "and");
    match suggest(key, allowed) {
        Some(close) => format!("did you mean `{close}`? ({intro} {all})"),
        None => format!("{intro} {all}; rename or remove it"),
    }
}

/// The candidate most similar to `word`, ignoring case, if any is similar enough.
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|candidate| (*candidate, similarity(&word, &candidate.to_lowercase())))
        .filter(|(_, score)| *score >= SUGGESTION_THRESHOLD)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(candidate, _)| candidate)
}

fn similarity(word: &str, candidate: &str) -> f64 {
    // Jaro-Winkler undervalues two cases that are plainly typos: a single slip in a short key
    // (`dév`, `prd`), and a fragment of a long key (`homepage`, `origins`). Four letters keeps
    // fragments such as `env` or `url` from matching everything.
    let one_slip = strsim::osa_distance(word, candidate) <= 1;
    let fragment = word.len() >= 4 && (candidate.contains(word) || word.contains(candidate));
    let score = strsim::jaro_winkler(word, candidate);
    if one_slip || fragment {
        score.max(SUGGESTION_THRESHOLD)
    } else {
        score
    }
}

/// `a`, `b` and `c` (or `or`).
fn list(items: &[&str], conjunction: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{} {conjunction} {last}", rest.join(", "))
        }
        _ => quoted.concat(),
    }
}

/// The JSON type of `value`, as messages name it (`found number`).
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(_) => "number".to_owned(),
        Value::String(_) => "string".to_owned(),
        Value::Array(_) => "array".to_owned(),
        Value::Object(_) => "object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::json_schema;

    /// The object schema `node` describes, following `$ref` into `$defs` and into the object
    /// branch of an `anyOf` (as in `false | object`).
    fn resolve<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/$defs/")?;
            return resolve(root, root.get("$defs")?.get(name)?);
        }
        if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            return branches.iter().find_map(|branch| resolve(root, branch));
        }
        node.get("properties").map(|_| node)
    }

    fn property_names(object: &Value) -> Vec<&str> {
        object["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect()
    }

    #[test]
    fn key_lists_equal_the_schema_properties() {
        let schema = json_schema();
        let sections: Vec<&str> = Target::ALL.iter().map(|t| t.as_str()).collect();
        assert_eq!(property_names(&schema), sections);

        for target in Target::ALL {
            let section = resolve(&schema, &schema["properties"][target.as_str()]).unwrap();
            assert_eq!(property_names(section), section_keys(target), "{target}");

            let configure = resolve(&schema, &section["properties"]["configure"]).unwrap();
            assert_eq!(property_names(configure), CONFIGURE_KEYS, "{target}");
        }
    }

    #[test]
    fn every_schema_object_is_closed() {
        fn check(node: &Value, at: &str, seen: &mut usize) {
            match node {
                Value::Object(map) => {
                    let is_object =
                        map.get("type") == Some(&json!("object")) || map.contains_key("properties");
                    if is_object {
                        *seen += 1;
                        assert_eq!(map.get("additionalProperties"), Some(&json!(false)), "{at}");
                    }
                    for (key, child) in map {
                        check(child, &format!("{at}/{key}"), seen);
                    }
                }
                Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        check(child, &format!("{at}/{i}"), seen);
                    }
                }
                _ => {}
            }
        }

        let mut seen = 0;
        check(&json_schema(), "#", &mut seen);
        // authKit, the three sections, configure and localEnvVars.
        assert_eq!(seen, 6);
    }

    #[test]
    fn schema_has_titles_and_descriptions() {
        let schema = json_schema();
        assert_eq!(schema["title"], "authKit");
        assert!(schema["description"].as_str().unwrap().contains("active"));
        let configure = &schema["$defs"]["Configure"]["properties"];
        assert!(configure["redirectUris"]["description"].is_string());
        let env_type = &schema["$defs"]["EnvironmentType"];
        assert_eq!(
            env_type["enum"],
            json!(["development", "staging", "production"])
        );
        let vars = &schema["$defs"]["LocalEnvVars"]["patternProperties"];
        assert_eq!(
            vars[crate::config::VAR_NAME_PATTERN],
            json!({ "type": "string" })
        );
    }

    #[test]
    fn suggestions() {
        let sections = ["dev", "preview", "prod"];
        assert_eq!(
            suggest("redirectURIs", CONFIGURE_KEYS),
            Some("redirectUris")
        );
        assert_eq!(suggest("redirectUri", CONFIGURE_KEYS), Some("redirectUris"));
        assert_eq!(suggest("cors_origins", CONFIGURE_KEYS), Some("corsOrigins"));
        assert_eq!(suggest("homepage", CONFIGURE_KEYS), Some("appHomepageUrl"));
        assert_eq!(suggest("localenvvars", DEV_KEYS), Some("localEnvVars"));
        assert_eq!(suggest("develop", &sections), Some("dev"));
        assert_eq!(suggest("production", &sections), Some("prod"));
        assert_eq!(suggest("staging", &sections), None);
        assert_eq!(suggest("dév", &sections), Some("dev"));
        assert_eq!(suggest("prd", &sections), Some("prod"));
        assert_eq!(suggest("url", CONFIGURE_KEYS), None);
        assert_eq!(suggest("xyz", DEV_KEYS), None);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["a"], "or"), "`a`");
        assert_eq!(list(&["a", "b"], "or"), "`a` or `b`");
        assert_eq!(list(&["a", "b", "c"], "and"), "`a`, `b` and `c`");
        assert_eq!(list(&[], "and"), "");
    }
}

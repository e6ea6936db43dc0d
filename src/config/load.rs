//! Turns the bytes of `convex.json` into a checked `AuthKit`, or into every problem it has.
//!
//! Three steps: read the text as JSON (a syntax error stops here, with its line and column);
//! walk the `authKit` value and collect every problem (`validate.rs`); only when there are none,
//! deserialize into the model. The caller reads the file; this module does no I/O, so `validate`
//! and `plan` see exactly the same verdict for the same bytes.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::error::{ConfigError, ConfigErrors};
use super::locate::{Locator, line_column};
use super::model::AuthKit;
use super::path::JsonPath;
use super::validate::{Problem, validate};

/// The key of `convex.json` this tool owns; every other top-level key belongs to Convex.
pub const AUTH_KIT_KEY: &str = "authKit";

/// Reads the `authKit` section of `convex.json`.
///
/// `file` is used only in messages. Returns `Ok(None)` when the file has no `authKit` key, and
/// every problem found when the section is invalid.
pub fn load(file: &Path, bytes: &[u8]) -> Result<Option<AuthKit>, ConfigErrors> {
    let fail = |errors| ConfigErrors {
        file: file.to_path_buf(),
        errors,
    };

    let text = decode(bytes).map_err(|e| fail(vec![e]))?;
    let root: Value = serde_json::from_str(text).map_err(|e| fail(vec![syntax_error(&e)]))?;
    let Value::Object(top) = &root else {
        return Err(fail(vec![not_an_object(text, &root)]));
    };
    let Some(section) = top.get(AUTH_KIT_KEY) else {
        return Ok(None);
    };

    let path = JsonPath::root(AUTH_KIT_KEY);
    let problems = validate(section, &path);
    if !problems.is_empty() {
        let locator = Locator::new(text);
        return Err(fail(
            problems
                .into_iter()
                .map(|p| positioned(&locator, p))
                .collect(),
        ));
    }

    // The walk accepts exactly what the model reads, so this only fails if the two disagree.
    AuthKit::deserialize(section).map(Some).map_err(|err| {
        let message = format!(
            "could not read the section ({err}) although it passed validation; this is a bug in \
             authkit-sync, please report it with this file"
        );
        fail(vec![positioned(
            &Locator::new(text),
            Problem {
                path,
                message,
                at_key: false,
            },
        )])
    })
}

/// The file as text. A leading byte-order mark is skipped because some Windows editors add one
/// and it carries no meaning.
fn decode(bytes: &[u8]) -> Result<&str, ConfigError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.strip_prefix('\u{feff}').unwrap_or(text)),
        Err(err) => {
            let valid = bytes
                .get(..err.valid_up_to())
                .and_then(|b| std::str::from_utf8(b).ok());
            let (line, column) = valid
                .and_then(|text| line_column(text, text.len()))
                .unwrap_or((1, 1));
            let message = format!(
                "invalid JSON: the file is not valid UTF-8 (byte {}); save it as UTF-8",
                err.valid_up_to()
            );
            Err(ConfigError::whole_file(message, line, column))
        }
    }
}

fn syntax_error(err: &serde_json::Error) -> ConfigError {
    // serde_json appends the position to its message; it goes in the prefix instead.
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let text = full.strip_suffix(&suffix).unwrap_or(&full);
    ConfigError::whole_file(format!("invalid JSON: {text}"), err.line(), err.column())
}

fn not_an_object(text: &str, root: &Value) -> ConfigError {
    let kind = match root {
        Value::Array(_) => "an array",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Null => "null",
        Value::Object(_) => "an object",
    };
    let start = text.len() - text.trim_start().len();
    let (line, column) = line_column(text, start).unwrap_or((1, 1));
    let message = format!(
        "the file must contain a JSON object (`{{ ... }}`) at the top level, found {kind}; put \
         the settings inside `{{ \"{AUTH_KIT_KEY}\": {{ ... }} }}`"
    );
    ConfigError::whole_file(message, line, column)
}

/// Turns a problem into an error, with the position of its key or value when it can be found.
fn positioned(locator: &Locator<'_>, problem: Problem) -> ConfigError {
    let position = locator.locate(problem.path.steps()).and_then(|found| {
        let offset = if problem.at_key {
            found.key.unwrap_or(found.value)
        } else {
            found.value
        };
        locator.line_column(offset)
    });
    ConfigError {
        line: position.map(|(line, _)| line),
        column: position.map(|(_, column)| column),
        ..ConfigError::at(problem.path, problem.message)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::config::{Configure, EnvironmentType, LocalEnvVars};
    use crate::target::Target;

    fn file() -> PathBuf {
        PathBuf::from("proj/convex.json")
    }

    fn load_text(text: &str) -> Result<Option<AuthKit>, ConfigErrors> {
        load(&file(), text.as_bytes())
    }

    /// Loads `{"authKit": <auth_kit>}` and expects it to be valid.
    fn ok(auth_kit: Value) -> AuthKit {
        let text = json!({ "authKit": auth_kit }).to_string();
        match load_text(&text) {
            Ok(Some(config)) => config,
            other => panic!("expected a valid config, got {other:?}"),
        }
    }

    /// Loads `{"authKit": <auth_kit>}` and returns its errors as `(path, message)` pairs.
    fn errors(auth_kit: Value) -> Vec<(String, String)> {
        let text = serde_json::to_string_pretty(&json!({ "authKit": auth_kit })).unwrap();
        match load_text(&text) {
            Err(errors) => errors
                .errors
                .into_iter()
                .map(|e| (e.path, e.message))
                .collect(),
            Ok(config) => panic!("expected errors, got {config:?}"),
        }
    }

    /// Expects exactly one error, at `path`, whose message contains every one of `words`.
    fn one_error(auth_kit: Value, path: &str, words: &[&str]) {
        let found = errors(auth_kit);
        assert_eq!(found.len(), 1, "{found:#?}");
        let (at, message) = &found[0];
        assert_eq!(at, path);
        for word in words {
            assert!(message.contains(word), "{message:?} lacks {word:?}");
        }
    }

    #[test]
    fn no_auth_kit_key_is_none() {
        let text = r#"{"functions": "convex/", "$schema": "x", "node": {"anything": [1]}}"#;
        assert_eq!(load_text(text), Ok(None));
    }

    #[test]
    fn other_top_level_keys_are_ignored() {
        let text = r#"{"functions": 5, "authKit": {"prod": {}}, "codegen": null}"#;
        let config = load_text(text).unwrap().unwrap();
        assert!(config.is_active(Target::Prod));
    }

    #[test]
    fn empty_auth_kit_activates_nothing() {
        let config = ok(json!({}));
        for target in Target::ALL {
            assert!(!config.is_active(target));
        }
    }

    #[test]
    fn a_full_valid_config() {
        let config = ok(json!({
            "dev": {
                "configure": {
                    "redirectUris": ["http://localhost:${buildEnv.PORT}/callback"],
                    "appHomepageUrl": "http://localhost:3000",
                    "corsOrigins": ["http://localhost:3000"]
                },
                "localEnvVars": {
                    "WORKOS_CLIENT_ID": "${authEnv.WORKOS_CLIENT_ID}",
                    "VITE_WORKOS_REDIRECT_URI": "http://localhost:3000/callback"
                }
            },
            "preview": {
                "configure": { "redirectUris": ["https://${buildEnv.VERCEL_BRANCH_URL}/cb"] },
                "localEnvVars": false
            },
            "prod": { "environmentType": "staging", "configure": false }
        }));

        let dev = config.section(Target::Dev).unwrap();
        let configure = dev.configure.unwrap();
        assert_eq!(
            configure.redirect_uris,
            ["http://localhost:${buildEnv.PORT}/callback"]
        );
        assert_eq!(
            configure.app_homepage_url.as_deref(),
            Some("http://localhost:3000")
        );
        let names: Vec<_> = dev.local_env_vars.names().collect();
        assert_eq!(names, ["WORKOS_CLIENT_ID", "VITE_WORKOS_REDIRECT_URI"]);

        let prod = config.section(Target::Prod).unwrap();
        assert_eq!(prod.environment_type, Some(EnvironmentType::Staging));
        assert_eq!(prod.configure, None);
    }

    #[test]
    fn false_omitted_and_empty_object() {
        let disabled = ok(json!({ "dev": { "configure": false, "localEnvVars": false } }));
        let omitted = ok(json!({ "dev": {} }));
        let empty = ok(json!({ "dev": { "configure": {}, "localEnvVars": {} } }));

        assert_eq!(disabled, omitted);
        let view = disabled.section(Target::Dev).unwrap();
        assert_eq!((view.configure, view.local_env_vars_set), (None, false));
        let view = empty.section(Target::Dev).unwrap();
        assert_eq!(
            (view.configure, view.local_env_vars_set),
            (Some(&Configure::default()), true)
        );
    }

    #[test]
    fn empty_homepage_means_absent() {
        let config = ok(json!({ "dev": { "configure": { "appHomepageUrl": "" } } }));
        let configure = config.section(Target::Dev).unwrap().configure.unwrap();
        assert_eq!(configure.app_homepage_url, None);
    }

    #[test]
    fn auth_kit_must_be_an_object() {
        one_error(
            json!(null),
            "authKit",
            &["expected an object", "found null"],
        );
        one_error(json!(false), "authKit", &["found `false`"]);
        one_error(json!([]), "authKit", &["found array"]);
    }

    #[test]
    fn sections_must_be_objects() {
        one_error(
            json!({ "dev": null }),
            "authKit.dev",
            &["found null", "`{}`"],
        );
        one_error(
            json!({ "preview": false }),
            "authKit.preview",
            &["found `false`"],
        );
        one_error(json!({ "prod": "yes" }), "authKit.prod", &["found string"]);
    }

    #[test]
    fn unknown_sections() {
        let staging = errors(json!({ "staging": {} }));
        assert_eq!(staging.len(), 1);
        assert_eq!(staging[0].0, "authKit.staging");
        assert!(!staging[0].1.contains("did you mean"), "{}", staging[0].1);
        assert!(
            staging[0].1.contains("`dev`, `preview` and `prod`"),
            "{}",
            staging[0].1
        );

        one_error(
            json!({ "Dev": {} }),
            "authKit.Dev",
            &["did you mean `dev`?"],
        );
        one_error(
            json!({ "production": {} }),
            "authKit.production",
            &["did you mean `prod`?"],
        );
    }

    #[test]
    fn unknown_keys_suggest_the_closest() {
        one_error(
            json!({ "dev": { "configure": { "redirectURIs": [] } } }),
            "authKit.dev.configure.redirectURIs",
            &[
                "unknown key `redirectURIs`",
                "did you mean `redirectUris`?",
                "`corsOrigins`",
            ],
        );
        one_error(
            json!({ "prod": { "localEnvVar": false } }),
            "authKit.prod.localEnvVar",
            &["did you mean `localEnvVars`?"],
        );
        one_error(
            json!({ "dev": { "odd key": 1 } }),
            r#"authKit.dev["odd key"]"#,
            &["unknown key `odd key`", "`configure` and `localEnvVars`"],
        );
    }

    #[test]
    fn wrong_types_in_configure() {
        let path = "authKit.dev.configure";
        one_error(
            json!({ "dev": { "configure": true } }),
            path,
            &["`false` or an object"],
        );
        one_error(
            json!({ "dev": { "configure": null } }),
            path,
            &["found null"],
        );
        one_error(
            json!({ "dev": { "configure": { "redirectUris": 5 } } }),
            "authKit.dev.configure.redirectUris",
            &["expected an array of strings, found number"],
        );
        one_error(
            json!({ "dev": { "configure": { "corsOrigins": "http://a" } } }),
            "authKit.dev.configure.corsOrigins",
            &["expected an array of strings, found string", "wrap"],
        );
        one_error(
            json!({ "dev": { "configure": { "redirectUris": ["http://a", 1] } } }),
            "authKit.dev.configure.redirectUris[1]",
            &["expected a string, found number"],
        );
        one_error(
            json!({ "prod": { "configure": { "appHomepageUrl": null } } }),
            "authKit.prod.configure.appHomepageUrl",
            &["expected a string, found null"],
        );
    }

    #[test]
    fn empty_list_entries() {
        one_error(
            json!({ "dev": { "configure": { "redirectUris": ["http://a", ""] } } }),
            "authKit.dev.configure.redirectUris[1]",
            &["empty redirect URI"],
        );
        one_error(
            json!({ "preview": { "configure": { "corsOrigins": [""] } } }),
            "authKit.preview.configure.corsOrigins[0]",
            &["empty CORS origin"],
        );
    }

    #[test]
    fn environment_type_only_in_prod() {
        for section in ["dev", "preview"] {
            one_error(
                json!({ section: { "environmentType": "production" } }),
                &format!("authKit.{section}.environmentType"),
                &["only allowed in the prod section"],
            );
        }
        ok(json!({ "prod": { "environmentType": "production" } }));
    }

    #[test]
    fn environment_type_values() {
        one_error(
            json!({ "prod": { "environmentType": "prod" } }),
            "authKit.prod.environmentType",
            &["`prod`", "`development`, `staging` or `production`"],
        );
        one_error(
            json!({ "prod": { "environmentType": "Production" } }),
            "authKit.prod.environmentType",
            &["did you mean `production`?"],
        );
        one_error(
            json!({ "prod": { "environmentType": 1 } }),
            "authKit.prod.environmentType",
            &["found number", "`staging`"],
        );
    }

    #[test]
    fn local_env_vars_are_dev_only() {
        for section in ["preview", "prod"] {
            for value in [json!({}), json!({ "A": "b" }), json!(true), json!(null)] {
                one_error(
                    json!({ section: { "localEnvVars": value } }),
                    &format!("authKit.{section}.localEnvVars"),
                    &[".env.local", "dev", "hosting platform"],
                );
            }
            ok(json!({ section: { "localEnvVars": false } }));
        }
    }

    #[test]
    fn local_env_vars_names_and_values() {
        one_error(
            json!({ "dev": { "localEnvVars": { "1BAD": "x" } } }),
            r#"authKit.dev.localEnvVars["1BAD"]"#,
            &["`1BAD` is not a valid environment variable name"],
        );
        one_error(
            json!({ "dev": { "localEnvVars": { "GOOD": 3 } } }),
            "authKit.dev.localEnvVars.GOOD",
            &["expected a template string, found number"],
        );
        one_error(
            json!({ "dev": { "localEnvVars": [] } }),
            "authKit.dev.localEnvVars",
            &["`false` or an object", "found array"],
        );
    }

    #[test]
    fn template_errors_in_every_templated_field() {
        one_error(
            json!({ "dev": { "configure": { "redirectUris": ["ok", "${foo.X}"] } } }),
            "authKit.dev.configure.redirectUris[1]",
            &["`${foo.X}`", "authEnv", "buildEnv"],
        );
        one_error(
            json!({ "prod": { "configure": { "corsOrigins": ["https://${buildEnv.HOST"] } } }),
            "authKit.prod.configure.corsOrigins[0]",
            &["unterminated", "byte 8"],
        );
        one_error(
            json!({ "preview": { "configure": { "appHomepageUrl": "${}" } } }),
            "authKit.preview.configure.appHomepageUrl",
            &["`${}`"],
        );
        one_error(
            json!({ "dev": { "localEnvVars": { "ID": "${authEnv.WORKOS_SECRET}" } } }),
            "authKit.dev.localEnvVars.ID",
            &["`${authEnv.WORKOS_SECRET}`", "WORKOS_CLIENT_ID"],
        );
    }

    #[test]
    fn names_are_not_templates() {
        // Only the value is a template: a name with `${` fails the name rule, not the template
        // parser, and a valid name next to a valid template is fine.
        one_error(
            json!({ "dev": { "localEnvVars": { "${buildEnv.X}": "v" } } }),
            r#"authKit.dev.localEnvVars["${buildEnv.X}"]"#,
            &["not a valid environment variable name"],
        );
    }

    #[test]
    fn bad_name_and_bad_value_are_both_reported() {
        let found = errors(json!({ "dev": { "localEnvVars": { "A-B": 1 } } }));
        let paths: Vec<_> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, [r#"authKit.dev.localEnvVars["A-B"]"#; 2]);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let found = errors(json!({
            "dev": {
                "environmentType": "development",
                "configure": { "redirectURIs": ["x"], "corsOrigins": [""] }
            },
            "staging": {},
            "prod": { "localEnvVars": { "A": "b" } }
        }));
        let paths: Vec<_> = found.iter().map(|(p, _)| p.as_str()).collect();

        assert_eq!(
            paths,
            [
                "authKit.dev.environmentType",
                "authKit.dev.configure.redirectURIs",
                "authKit.dev.configure.corsOrigins[0]",
                "authKit.staging",
                "authKit.prod.localEnvVars",
            ]
        );
    }

    #[test]
    fn display_names_file_path_and_position() {
        let text = "{\n  \"authKit\": {\n    \"dev\": {\"configure\": {\"redirectUris\": \
                    [\"a\", 7]}},\n    \"stage\": {}\n  }\n}\n";
        let err = load_text(text).unwrap_err();

        assert_eq!(err.file, file());
        assert_eq!(err.errors.len(), 2);
        let lines: Vec<String> = err.to_string().lines().map(String::from).collect();
        assert_eq!(
            lines[0],
            "proj/convex.json:3:49: `authKit.dev.configure.redirectUris[1]`: expected a string, \
             found number; write the redirect URI in quotes"
        );
        assert!(lines[1].starts_with("proj/convex.json:4:5: `authKit.stage`: unknown section"));
        assert_eq!(
            (err.errors[1].line, err.errors[1].column),
            (Some(4), Some(5))
        );
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let err = load_text("{\n  \"authKit\": {\n    \"dev\": {},\n  }\n}").unwrap_err();

        assert_eq!(err.errors.len(), 1);
        let error = &err.errors[0];
        assert_eq!(
            (error.path.as_str(), error.line, error.column),
            ("", Some(4), Some(3))
        );
        assert_eq!(
            err.to_string(),
            "proj/convex.json:4:3: invalid JSON: trailing comma"
        );
    }

    #[test]
    fn empty_file_is_a_syntax_error() {
        let err = load_text("").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("proj/convex.json:1:0: invalid JSON: EOF"),
            "{err}"
        );
    }

    #[test]
    fn invalid_utf8_has_a_position() {
        let err = load(&file(), b"{\n \"a\": \"\xff\"}").unwrap_err();
        assert_eq!(
            (err.errors[0].line, err.errors[0].column),
            (Some(2), Some(8))
        );
        assert!(
            err.to_string().contains("not valid UTF-8 (byte 9)"),
            "{err}"
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let config = load(&file(), "\u{feff}{\"authKit\": {}}".as_bytes()).unwrap();
        assert_eq!(config, Some(AuthKit::default()));
    }

    #[test]
    fn top_level_must_be_an_object() {
        let err = load_text("\n  [1]").unwrap_err();
        assert_eq!(
            (err.errors[0].line, err.errors[0].column),
            (Some(2), Some(3))
        );
        assert!(err.to_string().contains("found an array"), "{err}");
    }

    #[test]
    fn unicode_keys_and_values() {
        let uri = "https://é.example/日本";
        let config = ok(json!({ "dev": { "configure": { "redirectUris": [uri] } } }));
        let configure = config.section(Target::Dev).unwrap().configure.unwrap();
        assert_eq!(configure.redirect_uris, [uri]);

        one_error(
            json!({ "dév": {} }),
            r#"authKit["dév"]"#,
            &["did you mean `dev`?"],
        );
    }

    /// Arbitrary JSON, biased towards the keys and values the walk knows, so that deep parts of
    /// the walk are reached and not just the top-level type check.
    fn arb_json() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            prop::sample::select(vec![
                "dev",
                "preview",
                "prod",
                "configure",
                "localEnvVars",
                "environmentType",
                "redirectUris",
                "appHomepageUrl",
                "corsOrigins",
                "staging",
                "A",
                "1A",
            ])
            .prop_map(String::from),
            "\\PC{0,6}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_map(|n| json!(n)),
            prop::sample::select(vec![
                "",
                "production",
                "staging",
                "${",
                "${}",
                "${buildEnv.A}"
            ])
            .prop_map(|s| json!(s)),
            "(\\PC|\\$\\{)*".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    /// Either a plausible value for a slot or anything at all: values shaped like the section,
    /// with a mistake here and there, reach every rule of the walk.
    fn slot(plausible: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Value> {
        prop_oneof![9 => plausible, 1 => arb_json()].boxed()
    }

    /// An object holding any subset of `fields`, each present with the given probability.
    fn object(fields: Vec<(&'static str, f64, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
        let members: Vec<_> = fields
            .into_iter()
            .map(|(key, p, value)| {
                prop::option::weighted(p, value.prop_map(move |v| (key.to_owned(), v)))
            })
            .collect();
        members
            .prop_map(|pairs| Value::Object(pairs.into_iter().flatten().collect()))
            .boxed()
    }

    fn arb_shaped_auth_kit() -> BoxedStrategy<Value> {
        let text = || {
            let text = prop_oneof![8 => arb_template(), 1 => Just(String::new()), 1 => "\\PC{0,4}"];
            slot(text.prop_map(Value::String))
        };
        let texts = || slot(prop::collection::vec(text(), 0..3).prop_map(Value::Array));
        let flag = || prop_oneof![Just(json!(false)), Just(json!(true))];
        let configure = slot(prop_oneof![
            flag(),
            object(vec![
                ("redirectUris", 0.5, texts()),
                ("appHomepageUrl", 0.5, text()),
                ("corsOrigins", 0.5, texts()),
                ("redirectURIs", 0.05, texts()),
            ]),
        ]);
        let names = prop_oneof![9 => "[A-Za-z_][A-Za-z0-9_]{0,3}", 1 => "[0-9-]{1,2}"];
        let vars = slot(prop_oneof![
            flag(),
            prop::collection::vec((names, text()), 0..3)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]);
        let env_type = ["development", "staging", "production", "prod"].map(|t| json!(t));
        let section = slot(object(vec![
            ("configure", 0.7, configure),
            ("localEnvVars", 0.3, vars),
            (
                "environmentType",
                0.3,
                slot(prop::sample::select(env_type.to_vec())),
            ),
            ("environmentTyp", 0.05, arb_json().boxed()),
        ]));
        slot(object(vec![
            ("dev", 0.5, section.clone()),
            ("preview", 0.5, section.clone()),
            ("prod", 0.5, section.clone()),
            ("staging", 0.05, section),
        ]))
    }

    fn arb_template() -> impl Strategy<Value = String> {
        "([a-z:/.é-]|\\$\\{buildEnv\\.[A-Z_]{1,4}\\}|\\$\\{authEnv\\.WORKOS_CLIENT_ID\\}){1,5}"
    }

    fn arb_configure() -> impl Strategy<Value = Configure> {
        (
            prop::collection::vec(arb_template(), 0..3),
            prop::option::of(arb_template()),
            prop::collection::vec(arb_template(), 0..3),
        )
            .prop_map(
                |(redirect_uris, app_homepage_url, cors_origins)| Configure {
                    redirect_uris,
                    app_homepage_url,
                    cors_origins,
                },
            )
    }

    /// Valid configurations, built from the model rather than from JSON.
    fn arb_auth_kit() -> impl Strategy<Value = AuthKit> {
        use crate::config::{DevSection, Disabled, PreviewSection, ProdSection};

        let vars = prop::collection::vec(("[A-Za-z_][A-Za-z0-9_]{0,5}", arb_template()), 0..4)
            .prop_map(LocalEnvVars::new);
        let dev = (prop::option::of(arb_configure()), prop::option::of(vars)).prop_map(
            |(configure, local_env_vars)| DevSection {
                configure,
                local_env_vars,
            },
        );
        let preview = (
            prop::option::of(arb_configure()),
            prop::option::of(Just(Disabled)),
        )
            .prop_map(|(configure, local_env_vars)| PreviewSection {
                configure,
                local_env_vars,
            });
        let env_type = prop::option::of(prop::sample::select(EnvironmentType::ALL.to_vec()));
        let prod = (prop::option::of(arb_configure()), env_type).prop_map(
            |(configure, environment_type)| ProdSection {
                configure,
                local_env_vars: None,
                environment_type,
            },
        );
        (
            prop::option::of(dev),
            prop::option::of(preview),
            prop::option::of(prod),
        )
            .prop_map(|(dev, preview, prod)| AuthKit { dev, preview, prod })
    }

    #[test]
    fn shaped_values_are_often_valid() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;

        // The shaped generator is only useful if a fair share of its values pass the walk and
        // reach deserialization; otherwise the "walk and model agree" property tests nothing.
        let mut runner = TestRunner::deterministic();
        let strategy = arb_shaped_auth_kit();
        let valid = (0..400)
            .filter(|_| {
                let value = strategy.new_tree(&mut runner).unwrap().current();
                load_text(&json!({ "authKit": value }).to_string()).is_ok()
            })
            .count();
        assert!(valid >= 40, "only {valid} of 400 shaped values were valid");
    }

    proptest! {
        #[test]
        fn load_never_panics_on_text(text in "\\PC*") {
            let _ = load_text(&text);
        }

        #[test]
        fn load_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = load(&file(), &bytes);
        }

        #[test]
        fn load_never_panics_under_auth_kit(
            value in prop_oneof![arb_json(), arb_shaped_auth_kit()]
        ) {
            let text = serde_json::to_string_pretty(&json!({ "authKit": value })).unwrap();
            match load_text(&text) {
                Ok(config) => prop_assert!(config.is_some()),
                Err(errors) => {
                    prop_assert!(!errors.errors.is_empty());
                    for error in &errors.errors {
                        // The walk and the model must agree: never the "bug" error.
                        prop_assert!(!error.message.contains("bug in authkit-sync"), "{}", error);
                        // Every walk error is found in the source.
                        prop_assert!(error.line.is_some(), "{}", error);
                    }
                }
            }
        }

        #[test]
        fn valid_models_load_back_unchanged(config in arb_auth_kit()) {
            let text = serde_json::to_string(&json!({ "authKit": config })).unwrap();
            prop_assert_eq!(load_text(&text), Ok(Some(config)));
        }
    }
}

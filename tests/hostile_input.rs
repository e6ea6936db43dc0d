//! Hostile local input: `convex.json`, templates and `.env.local` made to break the parsers.
//! Whatever the bytes, nothing panics, nothing hangs (every case has a time bound, far above
//! what a linear pass needs even unoptimised), output stays proportional to input, and the
//! `.env.local` editor gives back every input byte for byte.
//!
//! The generated cases are bounded so that the whole file runs in a few seconds.

use std::path::Path;
use std::time::{Duration, Instant};

use authkit_sync::config;
use authkit_sync::dotenv::Document;
use authkit_sync::template::{self, AuthVar, Context};
use proptest::prelude::*;

/// Runs `work` and fails if it took longer than `limit`.
fn within<T>(limit: Duration, what: &str, work: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = work();
    let took = started.elapsed();
    assert!(took < limit, "{what} took {took:?}, more than {limit:?}");
    result
}

fn load(text: &str) -> Result<Option<config::AuthKit>, config::ConfigErrors> {
    config::load(Path::new("convex.json"), text.as_bytes())
}

/// Tokens of JSON, valid or not, that reach the loader's corners: nesting, escapes, duplicate
/// and near-miss keys, huge numbers, template syntax.
fn json_token() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"authKit\"",
        "\"dev\"",
        "\"prod\"",
        "\"configure\"",
        "\"redirectUris\"",
        "\"redirectURIs\"",
        "\"localEnvVars\"",
        "\"corsOrigins\"",
        "\"appHomepageUrl\"",
        "\"environmentType\"",
        "\"production\"",
        "\"http://a/cb\"",
        "\"${authEnv.WORKOS_API_KEY}\"",
        "\"${buildEnv.X}\"",
        "\"${\"",
        "\"\\u0000\"",
        "\"\\ud800\"",
        "\"\\\"\"",
        "1e999999",
        "-0",
        "123456789012345678901234567890",
        "true",
        "null",
        " ",
        "\n",
        "\u{feff}",
        "\"\u{e9}\"",
    ])
    .prop_map(str::to_owned)
}

fn json_like() -> impl Strategy<Value = String> {
    prop::collection::vec(json_token(), 0..60).prop_map(|tokens| tokens.concat())
}

struct Values;

impl Context for Values {
    fn auth(&self, var: AuthVar) -> Option<String> {
        Some(format!("${{authEnv.{}}}", var.env_name()))
    }

    fn build_env(&self, name: &str) -> Option<String> {
        Some(format!("$({name}) ${{buildEnv.{name}}} `{name}`"))
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_loader_reports_problems_it_can_place(text in json_like()) {
        let prefixed = format!("{{\"authKit\": {text}}}");
        for candidate in [&text, &prefixed] {
            if let Err(errors) = load(candidate) {
                prop_assert!(!errors.errors.is_empty());
                // At most one problem per byte: reporting cannot blow up.
                prop_assert!(errors.errors.len() <= candidate.len() + 1);
                let lines = candidate.lines().count() + 1;
                for error in &errors.errors {
                    prop_assert!(!error.message.is_empty());
                    prop_assert!(error.line.is_none_or(|line| line <= lines), "{}", error);
                }
            }
        }
    }

    #[test]
    fn substituted_values_are_never_expanded_again(
        text in "([a-z:/.]|\\$\\{buildEnv\\.[A-Z]{1,3}\\}|\\$\\{authEnv\\.WORKOS_API_KEY\\}){0,8}"
    ) {
        if let Ok(parsed) = template::parse(&text) {
            let resolved = parsed.resolve(&Values).expect("every name has a value");
            // Each substitution adds its text once, however much template syntax it holds.
            let expansions = text.matches("${").count();
            prop_assert!(resolved.len() <= text.len() + expansions * 64);
            prop_assert_eq!(template::parse(&text).map(|t| t.source().to_owned()), Ok(text));
        }
    }

    #[test]
    fn the_env_editor_gives_back_every_input(
        bytes in prop::collection::vec(
            prop_oneof![
                3 => prop::sample::select(b"=\"'`\\#\n\r $:{}xA_".to_vec()),
                1 => any::<u8>(),
            ],
            0..2000,
        ),
        value in "[a-z\"'`#\\\\ \n]{0,12}",
    ) {
        let document = Document::parse(&bytes);
        prop_assert_eq!(document.as_bytes(), &bytes[..]);
        let mut edited = document.clone();
        if edited.set("ADDED_KEY", &value).is_ok() {
            let read_back = edited.get("ADDED_KEY").map(|e| e.value.clone());
            prop_assert_eq!(read_back, Some(value));
            // A new key is appended: everything before it is the input, untouched.
            let appended = document.get("ADDED_KEY").is_none();
            prop_assert!(!appended || edited.as_bytes().starts_with(&bytes));
        } else {
            prop_assert_eq!(edited.as_bytes(), &bytes[..]);
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
        let depth = 200_000;
        let text = format!(
            "{{\"authKit\": {}1{}}}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let result = within(Duration::from_secs(5), "deep nesting", || load(&text));
        let errors = result.expect_err("too deep");
        assert!(
            errors.errors[0].message.contains("recursion limit"),
            "{errors}"
        );
    }
}

#[test]
fn twenty_thousand_problems_are_all_reported_and_placed_quickly() {
    let uris: Vec<serde_json::Value> = (0..20_000)
        .map(|i| serde_json::json!({ "bad": i }))
        .collect();
    let document = serde_json::json!({"authKit": {"dev": {"configure": {"redirectUris": uris}}}});
    for text in [
        serde_json::to_string_pretty(&document).unwrap(),
        serde_json::to_string(&document).unwrap(),
    ] {
        let errors = within(Duration::from_secs(20), "20,000 problems", || load(&text))
            .expect_err("every element is wrong");
        assert_eq!(errors.errors.len(), 20_000);
        assert!(
            errors
                .errors
                .iter()
                .all(|e| e.line.is_some() && e.column.is_some())
        );
    }
}

#[test]
fn long_values_and_many_expressions_stay_linear() {
    let long = "x".repeat(4_000_000);
    let text = format!(
        "{{\"authKit\": {{\"dev\": {{\"configure\": {{\"appHomepageUrl\": \"{long}\"}}}}}}}}"
    );
    within(Duration::from_secs(10), "a 4 MB value", || load(&text)).expect("loads");

    for source in [
        "${".repeat(200_000),
        "${buildEnv.A}".repeat(100_000),
        "$".repeat(400_000),
        "}".repeat(400_000),
    ] {
        let parsed = within(Duration::from_secs(10), "a long template", || {
            template::parse(&source)
        });
        if let Ok(parsed) = parsed {
            let resolved = within(Duration::from_secs(10), "resolving", || {
                parsed.resolve(&Values)
            });
            assert!(resolved.expect("resolves").len() <= 20 * source.len());
        }
    }
}

#[test]
fn pathological_env_files_parse_and_edit_in_linear_time() {
    let cases: Vec<Vec<u8>> = vec![
        "'".repeat(1_000_000).into_bytes(),
        "A=\"\n".repeat(300_000).into_bytes(),
        "A='\n".repeat(300_000).into_bytes(),
        "A=`x\n".repeat(300_000).into_bytes(),
        format!("A=\"{}\"", "\\n".repeat(500_000)).into_bytes(),
        "\r".repeat(1_000_000).into_bytes(),
        "export ".repeat(300_000).into_bytes(),
        format!("A={}", "x".repeat(2_000_000)).into_bytes(),
        [0xffu8, 0xfe, b'=', b'\n'].repeat(250_000),
    ];
    for bytes in cases {
        let what = format!(
            "{:?}...",
            String::from_utf8_lossy(&bytes[..12.min(bytes.len())])
        );
        let mut document = within(Duration::from_secs(10), &what, || Document::parse(&bytes));
        assert_eq!(document.as_bytes(), &bytes[..], "{what}");
        within(Duration::from_secs(10), &what, || document.diagnostics());
        let _ = within(Duration::from_secs(10), &what, || {
            document.set("NEW_KEY", "v")
        });
    }
}

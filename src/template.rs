//! The `${...}` template language used in `convex.json` values.
//!
//! Redirect URIs, CORS origins, the app homepage URL and `.env.local` values may embed
//! `${authEnv.WORKOS_CLIENT_ID}`, `${authEnv.WORKOS_API_KEY}`,
//! `${authEnv.WORKOS_ENVIRONMENT_ID}` (the credentials resolved for this run) and
//! `${buildEnv.NAME}` (a build-time environment variable). Parsing is separate from resolving so
//! that `validate` can reject a malformed template offline, before any credential exists.
//!
//! The grammar is deliberately tiny and matches what the Convex CLI accepts: one left-to-right
//! pass, no escapes, no nesting, case-sensitive names and no trimming of whitespace inside the
//! braces. Substituted values are never rescanned, so a variable whose value happens to contain
//! `${...}` cannot smuggle in another substitution (or a secret).

use std::fmt;

use thiserror::Error;

/// The namespace of credential variables: `${authEnv.NAME}`.
const AUTH_NAMESPACE: &str = "authEnv";

/// The namespace of build-time environment variables: `${buildEnv.NAME}`.
const BUILD_NAMESPACE: &str = "buildEnv";

/// A credential that a template can reference through `${authEnv.NAME}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AuthVar {
    ClientId,
    ApiKey,
    EnvironmentId,
}

impl AuthVar {
    pub const ALL: [AuthVar; 3] = [AuthVar::ClientId, AuthVar::ApiKey, AuthVar::EnvironmentId];

    /// The variable's name, both after `authEnv.` and as an environment variable.
    pub fn env_name(self) -> &'static str {
        match self {
            AuthVar::ClientId => "WORKOS_CLIENT_ID",
            AuthVar::ApiKey => "WORKOS_API_KEY",
            AuthVar::EnvironmentId => "WORKOS_ENVIRONMENT_ID",
        }
    }

    fn from_env_name(name: &str) -> Option<AuthVar> {
        AuthVar::ALL.into_iter().find(|var| var.env_name() == name)
    }
}

impl fmt::Display for AuthVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.env_name())
    }
}

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text copied to the output byte for byte.
    Literal(String),
    /// `${authEnv.NAME}`.
    Auth(AuthVar),
    /// `${buildEnv.NAME}`; the name is known to be a valid variable name.
    Build(String),
}

/// A parsed template: its source text and the segments it splits into.
///
/// Two literal segments are never adjacent and no literal segment is empty, so the segments are
/// a canonical form of the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

/// Where template values come from when a template is resolved.
pub trait Context {
    /// The credential for `var`, or `None` when this run has none.
    fn auth(&self, var: AuthVar) -> Option<String>;

    /// The build-time variable `name` (process environment, then `.env.local`, then `.env`), or
    /// `None` when it is not set anywhere.
    fn build_env(&self, name: &str) -> Option<String>;
}

/// Why a template could not be parsed or resolved. Every message quotes the expression.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TemplateError {
    #[error(
        "unknown template expression `${{{expr}}}`: use `${{authEnv.NAME}}` for WorkOS \
         credentials or `${{buildEnv.NAME}}` for environment variables (names are \
         case-sensitive and no spaces are allowed inside `${{}}`)"
    )]
    UnknownNamespace { expr: String },

    #[error(
        "unknown credential in `${{{expr}}}`: `authEnv` provides only WORKOS_CLIENT_ID, \
         WORKOS_API_KEY and WORKOS_ENVIRONMENT_ID"
    )]
    UnknownAuthVar { expr: String },

    #[error(
        "invalid variable name in `${{{expr}}}`: a `buildEnv` name must match \
         `[A-Za-z_][A-Za-z0-9_]*`"
    )]
    InvalidBuildEnvName { expr: String },

    #[error(
        "empty template expression `${{}}` at byte {offset}: write `${{buildEnv.NAME}}` or \
         `${{authEnv.NAME}}`, or remove it"
    )]
    EmptyExpression { offset: usize },

    #[error(
        "unterminated template expression: `${{` at byte {offset} has no closing `}}`; close \
         it (there is no escape for a literal `${{`)"
    )]
    Unterminated { offset: usize },

    #[error(
        "cannot resolve `${{buildEnv.{name}}}`: {name} is not set in the process environment, \
         .env.local or .env; set it before running"
    )]
    MissingBuildEnv { name: String },

    #[error(
        "cannot resolve `${{authEnv.{var}}}`: the WorkOS credential {var} is not available; \
         set {var} in the environment or .env.local, or use the dev target to provision an \
         environment"
    )]
    MissingAuth { var: AuthVar },

    #[error("cannot resolve `${{{expr}}}`: the variable is set but empty; give it a value")]
    EmptyValue { expr: String },
}

/// Parses `text` in one left-to-right pass.
///
/// Unlike the Convex CLI, which leaves `${}` and an unclosed `${` in the output as literal text,
/// both are errors here: the CLI's behaviour silently ships a broken URL to WorkOS.
pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    let mut consumed = 0;

    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let body_start = start + 2;
        let Some(body_len) = rest[body_start..].find('}') else {
            return Err(TemplateError::Unterminated {
                offset: consumed + start,
            });
        };
        let body = &rest[body_start..body_start + body_len];

        let segment = parse_expression(body, consumed + start)?;
        if !literal.is_empty() {
            segments.push(Segment::Literal(std::mem::take(&mut literal)));
        }
        segments.push(segment);

        let end = body_start + body_len + 1;
        consumed += end;
        rest = &rest[end..];
    }

    literal.push_str(rest);
    if !literal.is_empty() {
        segments.push(Segment::Literal(literal));
    }
    Ok(Template {
        source: text.to_owned(),
        segments,
    })
}

/// Parses the text between `${` and `}`; `offset` is where the `${` starts in the template.
fn parse_expression(body: &str, offset: usize) -> Result<Segment, TemplateError> {
    if body.is_empty() {
        return Err(TemplateError::EmptyExpression { offset });
    }

    let expr = || body.to_owned();
    match body.split_once('.') {
        Some((AUTH_NAMESPACE, name)) => AuthVar::from_env_name(name)
            .map(Segment::Auth)
            .ok_or_else(|| TemplateError::UnknownAuthVar { expr: expr() }),
        Some((BUILD_NAMESPACE, name)) if is_var_name(name) => Ok(Segment::Build(name.to_owned())),
        Some((BUILD_NAMESPACE, _)) => Err(TemplateError::InvalidBuildEnvName { expr: expr() }),
        _ => Err(TemplateError::UnknownNamespace { expr: expr() }),
    }
}

/// Whether `name` matches `[A-Za-z_][A-Za-z0-9_]*`, the shape of a portable environment variable
/// name (and the only shape `.env` files and shells agree on).
pub fn is_var_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'_' => {
            bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        }
        _ => false,
    }
}

impl Template {
    /// The text the template was parsed from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// Substitutes every expression from `ctx`, failing on the first missing or empty value so
    /// that a half-substituted string never reaches WorkOS or `.env.local`.
    pub fn resolve(&self, ctx: &dyn Context) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.source.len());
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Auth(var) => {
                    let value = ctx
                        .auth(*var)
                        .ok_or(TemplateError::MissingAuth { var: *var })?;
                    push_value(&mut out, &value, || format!("{AUTH_NAMESPACE}.{var}"))?;
                }
                Segment::Build(name) => {
                    let value = ctx
                        .build_env(name)
                        .ok_or_else(|| TemplateError::MissingBuildEnv { name: name.clone() })?;
                    push_value(&mut out, &value, || format!("{BUILD_NAMESPACE}.{name}"))?;
                }
            }
        }
        Ok(out)
    }

    /// Whether the template references the credential `var`.
    pub fn uses(&self, var: AuthVar) -> bool {
        self.segments.contains(&Segment::Auth(var))
    }

    /// The `buildEnv` names the template references, in order of appearance (repeats included).
    pub fn build_vars(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Build(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Whether the template has no expressions, so that it resolves to its source unchanged.
    pub fn is_literal(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Literal(_)))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Appends a substituted value verbatim; an empty value is an error because an empty client ID
/// or hostname always produces a broken URL or variable.
fn push_value(
    out: &mut String,
    value: &str,
    expr: impl FnOnce() -> String,
) -> Result<(), TemplateError> {
    if value.is_empty() {
        return Err(TemplateError::EmptyValue { expr: expr() });
    }
    out.push_str(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    /// A context backed by plain maps, standing in for credentials and the build environment.
    #[derive(Default)]
    struct MapContext {
        auth: HashMap<AuthVar, String>,
        build: HashMap<String, String>,
    }

    impl MapContext {
        fn with_build(mut self, name: &str, value: &str) -> Self {
            self.build.insert(name.to_owned(), value.to_owned());
            self
        }

        fn with_auth(mut self, var: AuthVar, value: &str) -> Self {
            self.auth.insert(var, value.to_owned());
            self
        }
    }

    impl Context for MapContext {
        fn auth(&self, var: AuthVar) -> Option<String> {
            self.auth.get(&var).cloned()
        }

        fn build_env(&self, name: &str) -> Option<String> {
            self.build.get(name).cloned()
        }
    }

    fn lit(text: &str) -> Segment {
        Segment::Literal(text.to_owned())
    }

    #[test]
    fn splits_literals_and_expressions() {
        let t = parse("https://${buildEnv.HOST}/cb?c=${authEnv.WORKOS_CLIENT_ID}").unwrap();

        assert_eq!(
            t.segments(),
            [
                lit("https://"),
                Segment::Build("HOST".into()),
                lit("/cb?c="),
                Segment::Auth(AuthVar::ClientId),
            ]
        );
        assert!(t.uses(AuthVar::ClientId));
        assert!(!t.uses(AuthVar::ApiKey));
        assert_eq!(t.build_vars().collect::<Vec<_>>(), ["HOST"]);
        assert!(!t.is_literal());
        assert_eq!(
            t.source(),
            "https://${buildEnv.HOST}/cb?c=${authEnv.WORKOS_CLIENT_ID}"
        );
    }

    #[test]
    fn every_auth_var_parses() {
        for var in AuthVar::ALL {
            let t = parse(&format!("${{authEnv.{}}}", var.env_name())).unwrap();
            assert_eq!(t.segments(), [Segment::Auth(var)]);
        }
    }

    #[test]
    fn literal_text_is_kept_byte_for_byte() {
        let text = "  http://x/$ {}$$ }{ \t\u{0}é😀 $";
        let t = parse(text).unwrap();

        assert!(t.is_literal());
        assert_eq!(t.segments(), [lit(text)]);
        assert_eq!(t.resolve(&MapContext::default()).unwrap(), text);
    }

    #[test]
    fn empty_template_is_literal() {
        let t = parse("").unwrap();
        assert!(t.is_literal());
        assert!(t.segments().is_empty());
        assert_eq!(t.resolve(&MapContext::default()).unwrap(), "");
    }

    #[test]
    fn unicode_around_expressions() {
        let t = parse("héllo-${buildEnv.N}-wörld😀").unwrap();
        let ctx = MapContext::default().with_build("N", "日本");
        assert_eq!(t.resolve(&ctx).unwrap(), "héllo-日本-wörld😀");
    }

    #[test]
    fn unknown_namespace() {
        let err = parse("a${foo.X}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownNamespace {
                expr: "foo.X".into()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("`${foo.X}`"), "{msg}");
        assert!(msg.contains("authEnv") && msg.contains("buildEnv"), "{msg}");
    }

    #[test]
    fn namespace_is_case_sensitive_and_untrimmed() {
        for body in [
            "buildenv.X",
            " buildEnv.X ",
            "buildEnv",
            "AUTHENV.WORKOS_API_KEY",
            "x",
        ] {
            let err = parse(&format!("${{{body}}}")).unwrap_err();
            assert_eq!(
                err,
                TemplateError::UnknownNamespace { expr: body.into() },
                "{body}"
            );
        }
    }

    #[test]
    fn unknown_auth_var() {
        let err = parse("${authEnv.WORKOS_SECRET}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::UnknownAuthVar {
                expr: "authEnv.WORKOS_SECRET".into()
            }
        );
        let msg = err.to_string();
        assert!(msg.contains("`${authEnv.WORKOS_SECRET}`"), "{msg}");
        for var in AuthVar::ALL {
            assert!(msg.contains(var.env_name()), "{msg}");
        }

        // Case matters: the lowercase spelling is not the client ID.
        assert!(matches!(
            parse("${authEnv.workos_client_id}"),
            Err(TemplateError::UnknownAuthVar { .. })
        ));
    }

    #[test]
    fn invalid_build_env_name() {
        for name in ["", "1X", "A-B", "A B", "A.B", "É"] {
            let body = format!("buildEnv.{name}");
            let err = parse(&format!("${{{body}}}")).unwrap_err();
            assert_eq!(
                err,
                TemplateError::InvalidBuildEnvName { expr: body.clone() },
                "{name}"
            );
            assert!(err.to_string().contains(&format!("`${{{body}}}`")));
        }
    }

    #[test]
    fn empty_expression() {
        let err = parse("ab${}").unwrap_err();
        assert_eq!(err, TemplateError::EmptyExpression { offset: 2 });
        assert!(err.to_string().contains("`${}`"));
    }

    #[test]
    fn unterminated_gives_byte_offset() {
        let err = parse("é${buildEnv.X}/${buildEnv.Y").unwrap_err();
        // `é` is two bytes, the first expression thirteen, then `/`.
        assert_eq!(err, TemplateError::Unterminated { offset: 16 });
        assert!(err.to_string().contains("byte 16"), "{err}");
    }

    #[test]
    fn nesting_ends_at_first_brace() {
        let err = parse("${buildEnv.${buildEnv.X}}").unwrap_err();
        assert_eq!(
            err,
            TemplateError::InvalidBuildEnvName {
                expr: "buildEnv.${buildEnv.X".into()
            }
        );
    }

    #[test]
    fn missing_build_env() {
        let t = parse("${buildEnv.HOST}").unwrap();
        let err = t.resolve(&MapContext::default()).unwrap_err();
        assert_eq!(
            err,
            TemplateError::MissingBuildEnv {
                name: "HOST".into()
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains("`${buildEnv.HOST}`") && msg.contains(".env.local"),
            "{msg}"
        );
    }

    #[test]
    fn missing_auth() {
        let t = parse("${authEnv.WORKOS_ENVIRONMENT_ID}").unwrap();
        let err = t.resolve(&MapContext::default()).unwrap_err();
        assert_eq!(
            err,
            TemplateError::MissingAuth {
                var: AuthVar::EnvironmentId
            }
        );
        assert!(
            err.to_string()
                .contains("`${authEnv.WORKOS_ENVIRONMENT_ID}`")
        );
    }

    #[test]
    fn empty_values_are_errors() {
        let t = parse("x${buildEnv.HOST}").unwrap();
        let err = t
            .resolve(&MapContext::default().with_build("HOST", ""))
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::EmptyValue {
                expr: "buildEnv.HOST".into()
            }
        );
        assert!(err.to_string().contains("`${buildEnv.HOST}`"));

        let t = parse("${authEnv.WORKOS_API_KEY}").unwrap();
        let err = t
            .resolve(&MapContext::default().with_auth(AuthVar::ApiKey, ""))
            .unwrap_err();
        assert_eq!(
            err,
            TemplateError::EmptyValue {
                expr: "authEnv.WORKOS_API_KEY".into()
            }
        );
    }

    #[test]
    fn substituted_text_is_not_rescanned() {
        let t = parse("<${buildEnv.A}>").unwrap();
        let ctx = MapContext::default()
            .with_build("A", "${authEnv.WORKOS_API_KEY}${buildEnv.B}${")
            .with_build("B", "nope")
            .with_auth(AuthVar::ApiKey, "sk_test_secret");
        assert_eq!(
            t.resolve(&ctx).unwrap(),
            "<${authEnv.WORKOS_API_KEY}${buildEnv.B}${>"
        );
    }

    #[test]
    fn repeated_variables_resolve_each_time() {
        let t = parse("${buildEnv.A}${buildEnv.A}-${authEnv.WORKOS_CLIENT_ID}").unwrap();
        let ctx = MapContext::default()
            .with_build("A", "x")
            .with_auth(AuthVar::ClientId, "client_1");
        assert_eq!(t.resolve(&ctx).unwrap(), "xx-client_1");
        assert_eq!(t.build_vars().collect::<Vec<_>>(), ["A", "A"]);
    }

    #[test]
    fn lone_dollars_and_braces_are_literal() {
        let t = parse("$a $ {x} }${buildEnv.Y}$").unwrap();
        assert_eq!(
            t.segments(),
            [lit("$a $ {x} }"), Segment::Build("Y".into()), lit("$")]
        );
    }

    /// A piece of a generated template: its source text and what it resolves to.
    #[derive(Debug, Clone)]
    enum Piece {
        Literal(String),
        Build(String, String),
        Auth(AuthVar, String),
    }

    fn piece() -> impl Strategy<Value = Piece> {
        // Values may contain template syntax: resolving must copy it, not interpret it.
        let value = "([a-z]|\\$\\{authEnv.WORKOS_API_KEY\\}|\\$\\{|\\}|é){1,6}";
        prop_oneof![
            // A `$` is always followed by something other than `{` or `$`, so no literal can end
            // in `$` and join the next piece into an accidental `${`.
            "([^$]|\\$[^{$]){0,8}".prop_map(Piece::Literal),
            ("[A-Za-z_][A-Za-z0-9_]{0,6}", value).prop_map(|(n, v)| Piece::Build(n, v)),
            (prop::sample::select(AuthVar::ALL.to_vec()), value)
                .prop_map(|(var, v)| Piece::Auth(var, v)),
        ]
    }

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC*") {
            let _ = parse(&text);
        }

        #[test]
        fn parse_never_panics_on_template_like_text(
            text in "(\\$|\\{|\\}|\\.|authEnv|buildEnv|WORKOS_API_KEY|[a-zé ]){0,24}"
        ) {
            if let Ok(t) = parse(&text) {
                prop_assert_eq!(t.source(), text.as_str());
            }
        }

        #[test]
        fn resolve_is_the_concatenation(pieces in prop::collection::vec(piece(), 0..8)) {
            let mut source = String::new();
            let mut expected = String::new();
            let mut ctx = MapContext::default();
            for p in &pieces {
                match p {
                    Piece::Literal(text) => {
                        source.push_str(text);
                        expected.push_str(text);
                    }
                    Piece::Build(name, value) => {
                        // A repeated name keeps the value it was first given.
                        let value = ctx.build.entry(name.clone()).or_insert(value.clone());
                        source.push_str(&format!("${{buildEnv.{name}}}"));
                        expected.push_str(value);
                    }
                    Piece::Auth(var, value) => {
                        let value = ctx.auth.entry(*var).or_insert(value.clone());
                        source.push_str(&format!("${{authEnv.{}}}", var.env_name()));
                        expected.push_str(value);
                    }
                }
            }

            let t = parse(&source).unwrap();
            prop_assert_eq!(t.resolve(&ctx).unwrap(), expected);
            let literal_only = pieces.iter().all(|p| matches!(p, Piece::Literal(_)));
            prop_assert_eq!(t.is_literal(), literal_only);
        }
    }
}

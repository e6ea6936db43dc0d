//! Compiling a section of `convex.json` into the desired [`State`].
//!
//! Every template is resolved and every resolved value checked before any request is sent.
//! All problems are collected, each with the JSON path it belongs to, so one run shows them
//! all.

use std::fmt;

use crate::config::SectionView;
use crate::dotenv;
use crate::project::Framework;
use crate::state::{Address, Item, ResourceKind, Secret, State, Value, is_sensitive_name};
use crate::template::{self, AuthVar, Context};

pub const COOKIE_PASSWORD: &str = "WORKOS_COOKIE_PASSWORD";

/// What compilation needs from the outside world.
pub struct Inputs<'a> {
    pub section: SectionView<'a>,
    pub framework: Option<Framework>,
    pub auth: &'a dyn Fn(AuthVar) -> Option<String>,
    pub build_env: &'a dyn Fn(&str) -> Option<String>,
    /// The credentials are known only after apply provisions an environment: values built
    /// from `${authEnv.*}` are planned as "known after apply".
    pub auth_pending: bool,
}

/// Stands in for a credential that is known only after provisioning. It cannot occur in real
/// text (templates never produce NUL), so a resolved value containing it is a pending one.
const PENDING_MARK: &str = "\u{0}known-after-apply\u{0}";

/// The compiled desired state and the kinds it manages.
#[derive(Debug)]
pub struct Desired {
    pub state: State,
    /// Kinds the config takes charge of; the live state is read and diffed only for these.
    pub managed: Vec<ResourceKind>,
}

impl Desired {
    pub fn manages(&self, kind: ResourceKind) -> bool {
        self.managed.contains(&kind)
    }

    /// Whether any WorkOS resource is managed, and so an API key is needed.
    pub fn needs_workos(&self) -> bool {
        self.managed
            .iter()
            .any(|k| k.as_str().starts_with("workos."))
    }
}

/// One problem, at a JSON path of `convex.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        let plural = if count == 1 { "" } else { "s" };
        writeln!(f, "{count} problem{plural} in the values of convex.json:")?;
        for (i, problem) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  `{}`: {}", problem.path, problem.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

struct Lookup<'a>(&'a Inputs<'a>);

impl Context for Lookup<'_> {
    fn auth(&self, var: AuthVar) -> Option<String> {
        if self.0.auth_pending {
            return Some(PENDING_MARK.to_owned());
        }
        (self.0.auth)(var)
    }

    fn build_env(&self, name: &str) -> Option<String> {
        (self.0.build_env)(name)
    }
}

struct Compiler<'a> {
    inputs: &'a Inputs<'a>,
    prefix: String,
    state: State,
    managed: Vec<ResourceKind>,
    problems: Vec<Problem>,
}

impl Compiler<'_> {
    fn problem(&mut self, path: String, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
        });
    }

    /// Resolves one templated value; `None` after recording the problem.
    fn resolve(&mut self, path: &str, text: &str) -> Option<(String, bool)> {
        let result = template::parse(text).and_then(|t| {
            let value = t.resolve(&Lookup(self.inputs))?;
            Ok((value, t.uses(AuthVar::ApiKey)))
        });
        match result {
            Ok(resolved) => Some(resolved),
            Err(error) => {
                self.problem(path.to_owned(), error.to_string());
                None
            }
        }
    }

    fn is_production(&self) -> bool {
        let section = &self.inputs.section;
        section.target == crate::target::Target::Prod
            && section.environment_type.is_none_or(|t| t.is_production())
    }

    fn compile_list(&mut self, kind: ResourceKind, key: &str, entries: &[String]) {
        if entries.is_empty() {
            return;
        }
        self.managed.push(kind);
        for (i, text) in entries.iter().enumerate() {
            let path = format!("{}.configure.{key}[{i}]", self.prefix);
            let Some((value, _)) = self.resolve(&path, text) else {
                continue;
            };
            if value.contains(PENDING_MARK) {
                self.problem(path, PENDING_IN_URL);
                continue;
            }
            let checked = match kind {
                ResourceKind::CorsOrigin => check_origin(&value, self.is_production()),
                _ => check_url(&value, self.is_production(), true),
            };
            match checked {
                Ok(()) => self
                    .state
                    .insert(Address::new(kind, value), Item::new(Value::Present)),
                Err(message) => self.problem(path, message),
            }
        }
    }

    fn compile_homepage(&mut self, text: &str) {
        let path = format!("{}.configure.appHomepageUrl", self.prefix);
        let Some((value, _)) = self.resolve(&path, text) else {
            return;
        };
        if value.contains(PENDING_MARK) {
            self.problem(path, PENDING_IN_URL);
            return;
        }
        self.managed.push(ResourceKind::AppHomepageUrl);
        match check_url(&value, self.is_production(), false) {
            Ok(()) => self.state.insert(
                Address::singleton(ResourceKind::AppHomepageUrl),
                Item::new(Value::Text(value)),
            ),
            Err(message) => self.problem(path, message),
        }
    }

    fn compile_env_vars(&mut self) {
        let section = self.inputs.section;
        if !section.local_env_vars_set {
            return;
        }
        self.managed.push(ResourceKind::EnvFileVar);
        for (name, text) in section.local_env_vars.iter() {
            let path = format!("{}.localEnvVars.{name}", self.prefix);
            let Some((value, uses_key)) = self.resolve(&path, text) else {
                continue;
            };
            if value.contains(PENDING_MARK) {
                let address = Address::new(ResourceKind::EnvFileVar, name);
                self.state.insert(address, Item::new(Value::Pending));
                continue;
            }
            if let Err(error) = dotenv::encode_value(&value) {
                self.problem(
                    path,
                    format!("the value cannot be written to .env.local: {error}"),
                );
                continue;
            }
            let value = if uses_key || is_sensitive_name(name) {
                Value::Secret(Secret::new(value))
            } else {
                Value::Text(value)
            };
            self.state.insert(
                Address::new(ResourceKind::EnvFileVar, name),
                Item::new(value),
            );
        }

        // Server-rendered AuthKit libraries refuse to start without a cookie password; the
        // Convex CLI writes one for these frameworks, and so does this tool, once.
        let wants_password = self
            .inputs
            .framework
            .is_some_and(Framework::needs_cookie_password);
        if wants_password && section.local_env_vars.get(COOKIE_PASSWORD).is_none() {
            self.state.insert(
                Address::new(ResourceKind::EnvFileVar, COOKIE_PASSWORD),
                Item::new(Value::Generated),
            );
        }
    }
}

const PENDING_IN_URL: &str = "a URL cannot use `${authEnv.*}` before the WorkOS environment \
    exists; provision it first (run apply once without this entry) or write the value out";

/// The credentials a section needs: an API key to manage any WorkOS setting, and whatever its
/// templates reference. Checked before compiling, so a missing credential is reported once
/// with the places searched, not once per template.
pub fn required_credentials(section: &SectionView<'_>) -> Vec<AuthVar> {
    let mut templates: Vec<&str> = section.local_env_vars.iter().map(|(_, t)| t).collect();
    if let Some(configure) = section.configure {
        templates.extend(configure.redirect_uris.iter().map(String::as_str));
        templates.extend(configure.cors_origins.iter().map(String::as_str));
        templates.extend(configure.app_homepage_url.as_deref());
    }
    let manages_workos = section.configure.is_some_and(|c| {
        !c.redirect_uris.is_empty() || !c.cors_origins.is_empty() || c.app_homepage_url.is_some()
    });
    AuthVar::ALL
        .into_iter()
        .filter(|&var| {
            (var == AuthVar::ApiKey && manages_workos)
                || templates
                    .iter()
                    .any(|t| template::parse(t).is_ok_and(|t| t.uses(var)))
        })
        .collect()
}

/// Adds the deployment variables that make the deployment's `auth.config.ts` see the
/// credentials this run uses. `value` gives each variable's desired value, if known.
pub fn add_deployment_vars(desired: &mut Desired, value: impl Fn(AuthVar) -> Option<Value>) {
    desired.managed.push(ResourceKind::ConvexEnvVar);
    for var in AuthVar::ALL {
        if let Some(value) = value(var) {
            let address = Address::new(ResourceKind::ConvexEnvVar, var.env_name());
            desired.state.insert(address, Item::new(value));
        }
    }
}

/// Adds the provisioning step: a WorkOS environment for the deployment, dev only.
pub fn add_environment(desired: &mut Desired, name: &str) {
    desired.managed.insert(0, ResourceKind::Environment);
    let address = Address::new(ResourceKind::Environment, name);
    desired.state.insert(address, Item::new(Value::Present));
}

/// Compiles the section into the desired state.
pub fn compile(inputs: &Inputs<'_>) -> Result<Desired, Problems> {
    let mut compiler = Compiler {
        inputs,
        prefix: format!("authKit.{}", inputs.section.target),
        state: State::new(),
        managed: Vec::new(),
        problems: Vec::new(),
    };

    if let Some(configure) = inputs.section.configure {
        compiler.compile_list(
            ResourceKind::RedirectUri,
            "redirectUris",
            &configure.redirect_uris,
        );
        compiler.compile_list(
            ResourceKind::CorsOrigin,
            "corsOrigins",
            &configure.cors_origins,
        );
        if let Some(homepage) = &configure.app_homepage_url {
            compiler.compile_homepage(homepage);
        }
    }
    compiler.compile_env_vars();

    if compiler.problems.is_empty() {
        Ok(Desired {
            state: compiler.state,
            managed: compiler.managed,
        })
    } else {
        Err(Problems(compiler.problems))
    }
}

fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An absolute http(s) URL with a host and no fragment, as WorkOS accepts for callbacks and
/// the homepage; production environments also refuse plain http and loopback hosts.
fn check_url(text: &str, production: bool, allow_wildcard: bool) -> Result<(), String> {
    let url = url::Url::parse(text)
        .map_err(|e| format!("`{text}` is not an absolute URL ({e}); write it with its scheme"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "`{text}` must use https (or http outside production)"
        ));
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("`{text}` has no host"));
    }
    if url.fragment().is_some() {
        return Err(format!(
            "`{text}` has a fragment (`#...`), which WorkOS does not allow"
        ));
    }
    if host.contains('*') && !allow_wildcard {
        return Err(format!("`{text}`: wildcards are not allowed here"));
    }
    if production && (url.scheme() == "http" || is_local_host(host)) {
        return Err(format!(
            "`{text}`: a production WorkOS environment accepts only https URLs on public \
             hosts; use an https URL, or set authKit.prod.environmentType to `development` or \
             `staging` if prod uses a non-production environment"
        ));
    }
    Ok(())
}

/// `scheme://host[:port]` and nothing more: a path, even `/`, makes it not an origin.
fn check_origin(text: &str, production: bool) -> Result<(), String> {
    check_url(text, production, false)?;
    let rest = text.split_once("://").map_or("", |(_, rest)| rest);
    if rest.contains(['/', '?', '#']) {
        return Err(format!(
            "`{text}` is not an origin: remove everything after the host and port (an origin \
             has no path, query or trailing slash)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_any_request() {
        assert!(check_url("http://localhost:3000/callback", false, true).is_ok());
        assert!(check_url("https://*.example.com/callback", false, true).is_ok());
        assert!(check_url("localhost:3000/callback", false, true).is_err());
        assert!(check_url("ftp://x/cb", false, true).is_err());
        assert!(check_url("https://x/cb#frag", false, true).is_err());
        assert!(check_url("http://app.example.com/cb", true, true).is_err());
        assert!(check_url("https://localhost/cb", true, true).is_err());
        assert!(check_url("https://127.0.0.1/cb", true, true).is_err());
        assert!(check_url("https://app.example.com/cb", true, true).is_ok());
    }

    #[test]
    fn origins_have_no_path() {
        assert!(check_origin("http://localhost:3000", false).is_ok());
        assert!(check_origin("https://app.example.com", true).is_ok());
        assert!(check_origin("http://localhost:3000/", false).is_err());
        assert!(check_origin("https://app.example.com/x", true).is_err());
        assert!(check_origin("https://app.example.com?x", true).is_err());
    }
}

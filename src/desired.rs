//! Compiling a section of `convex.json` into the desired [`State`].
//!
//! Every template is resolved and every resolved value checked before any request is sent.
//! All problems are collected, each with the JSON path it belongs to, so one run shows them
//! all.
//!
//! Only what cannot work is a problem here: a value that is not a URL at all, or one that the
//! WorkOS environment in use is documented to refuse (a production environment refuses plain
//! http and local hosts in redirect URIs, and answers 422 to a local homepage URL). Everything
//! that is merely likely to be wrong (a CORS origin with a path, a redirect URI the app does not
//! use, a duplicate) is left to `checks`, which needs the declarations as written: they are
//! kept beside the state in [`Declared`].

use std::fmt;

use crate::config::SectionView;
use crate::dotenv;
use crate::framework::Framework;
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
    /// The resolved values in the order and with the repetitions `convex.json` has; the state
    /// above has lost both.
    pub declared: Declared,
}

/// What a section declares, value by value, after its templates were resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declared {
    pub redirect_uris: Vec<DeclaredValue>,
    pub cors_origins: Vec<DeclaredValue>,
    pub app_homepage_url: Option<DeclaredValue>,
    pub local_env_vars: Vec<DeclaredVar>,
}

/// One resolved redirect URI, CORS origin or homepage URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredValue {
    /// Where it is written, e.g. `authKit.dev.configure.redirectUris[1]`.
    pub path: String,
    pub value: String,
}

/// One resolved `localEnvVars` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredVar {
    pub name: String,
    /// Where it is written, e.g. `authKit.dev.localEnvVars.WORKOS_CLIENT_ID`.
    pub path: String,
    /// Text, or a secret when the name or the template marks it as one.
    pub value: Value,
    /// Whether the template uses `${authEnv.WORKOS_API_KEY}`.
    pub from_api_key: bool,
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
    declared: Declared,
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

    /// Why the WorkOS environment in use is a production one, if it is: the prod section asks
    /// for one (by default), or the API key is a live key whatever the target.
    fn production(&self) -> Option<Production> {
        let section = &self.inputs.section;
        let live_key = (self.inputs.auth)(AuthVar::ApiKey).is_some_and(|k| is_live_key(&k));
        if live_key {
            Some(Production::LiveKey)
        } else if section.target == crate::target::Target::Prod
            && section.environment_type.is_none_or(|t| t.is_production())
        {
            Some(Production::ProdSection)
        } else {
            None
        }
    }

    fn compile_list(&mut self, kind: ResourceKind, key: &str, entries: &[String]) {
        if entries.is_empty() {
            return;
        }
        self.managed.push(kind);
        // Production refuses local redirect URIs; for CORS origins no refusal is documented,
        // so there it is a finding of the checks rather than an error.
        let production = match kind {
            ResourceKind::RedirectUri => self.production(),
            _ => None,
        };
        for (i, text) in entries.iter().enumerate() {
            let path = format!("{}.configure.{key}[{i}]", self.prefix);
            let Some((value, _)) = self.resolve(&path, text) else {
                continue;
            };
            if value.contains(PENDING_MARK) {
                self.problem(path, PENDING_IN_URL);
                continue;
            }
            if let Err(message) = check_url(&value, production) {
                self.problem(path, message);
                continue;
            }
            self.state
                .insert(Address::new(kind, value.clone()), Item::new(Value::Present));
            let declared = DeclaredValue { path, value };
            match kind {
                ResourceKind::CorsOrigin => self.declared.cors_origins.push(declared),
                _ => self.declared.redirect_uris.push(declared),
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
        match check_url(&value, self.production()) {
            Ok(()) => {
                self.state.insert(
                    Address::singleton(ResourceKind::AppHomepageUrl),
                    Item::new(Value::Text(value.clone())),
                );
                self.declared.app_homepage_url = Some(DeclaredValue { path, value });
            }
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
                self.declared.local_env_vars.push(DeclaredVar {
                    name: name.to_owned(),
                    path,
                    value: Value::Pending,
                    from_api_key: uses_key,
                });
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
                Item::new(value.clone()),
            );
            self.declared.local_env_vars.push(DeclaredVar {
                name: name.to_owned(),
                path,
                value,
                from_api_key: uses_key,
            });
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

/// The WorkOS lists a section manages, in the order `compile` takes charge of them: known
/// before compiling, so that they can be read while the credentials are still being resolved.
pub fn managed_lists(section: &SectionView<'_>) -> Vec<ResourceKind> {
    let Some(configure) = section.configure else {
        return Vec::new();
    };
    let mut kinds = Vec::new();
    if !configure.redirect_uris.is_empty() {
        kinds.push(ResourceKind::RedirectUri);
    }
    if !configure.cors_origins.is_empty() {
        kinds.push(ResourceKind::CorsOrigin);
    }
    kinds
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
/// Compiles `section` with stand-ins for the credentials, to refuse the values that cannot
/// work before any request is sent: the real credentials may come from the Convex deployment,
/// and reading them takes a request. A value that only the real credentials make wrong (a
/// redirect URI on plain http with a production key) is still refused, by [`compile`], before
/// any write.
pub fn check_offline(
    section: SectionView<'_>,
    framework: Option<Framework>,
    build_env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), Problems> {
    let auth = |var: AuthVar| Some(format!("placeholder_{}", var.env_name().to_lowercase()));
    let inputs = Inputs {
        section,
        framework,
        auth: &auth,
        build_env,
        auth_pending: false,
    };
    compile(&inputs).map(|_| ())
}

pub fn compile(inputs: &Inputs<'_>) -> Result<Desired, Problems> {
    let mut compiler = Compiler {
        inputs,
        prefix: format!("authKit.{}", inputs.section.target),
        state: State::new(),
        managed: Vec::new(),
        declared: Declared::default(),
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
            declared: compiler.declared,
        })
    } else {
        Err(Problems(compiler.problems))
    }
}

/// Whether a WorkOS API key belongs to a production environment (by WorkOS's prefix rule).
pub fn is_live_key(key: &str) -> bool {
    key.starts_with("sk_live_")
}

/// Whether `host` (as a URL carries it, IPv6 in brackets) names the local machine.
pub fn is_local_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// Why a value must be production-safe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Production {
    /// The prod section wants a production environment (its `environmentType`, or the default).
    ProdSection,
    /// The API key is a live key, so the environment is production whatever the target.
    LiveKey,
}

/// An absolute http(s) URL with a host and no fragment, the shape WorkOS stores for callbacks,
/// origins and the homepage. In a production environment also https on a public host, which
/// WorkOS refuses otherwise.
fn check_url(text: &str, production: Option<Production>) -> Result<(), String> {
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
    let Some(production) = production else {
        return Ok(());
    };
    if url.scheme() == "http" || is_local_host(host) {
        let why = match production {
            Production::ProdSection => {
                "the prod section uses a production WorkOS environment, which accepts only https \
                 URLs on public hosts; use an https URL, or set authKit.prod.environmentType to \
                 `development` or `staging` if prod uses a non-production environment"
            }
            Production::LiveKey => {
                "WORKOS_API_KEY is a production key (sk_live_), and a production WorkOS \
                 environment accepts only https URLs on public hosts; use an https URL, or the \
                 sandbox key (sk_test_) for local development"
            }
        };
        return Err(format!("`{text}`: {why}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthKit, SectionView};
    use crate::target::Target;

    #[test]
    fn urls_are_checked_before_any_request() {
        let prod = Some(Production::ProdSection);
        assert!(check_url("http://localhost:3000/callback", None).is_ok());
        assert!(check_url("https://*.example.com/callback", None).is_ok());
        assert!(check_url("localhost:3000/callback", None).is_err());
        assert!(check_url("ftp://x/cb", None).is_err());
        assert!(check_url("https://x/cb#frag", None).is_err());
        assert!(check_url("http://app.example.com/cb", prod).is_err());
        assert!(check_url("https://localhost/cb", prod).is_err());
        assert!(check_url("https://127.0.0.1/cb", prod).is_err());
        assert!(check_url("https://[::1]/cb", Some(Production::LiveKey)).is_err());
        assert!(check_url("https://app.example.com/cb", prod).is_ok());
    }

    fn compile_json(
        target: Target,
        auth_kit: serde_json::Value,
        api_key: &str,
    ) -> Result<Desired, Problems> {
        let config: AuthKit = serde_json::from_value(auth_kit).unwrap();
        let section: SectionView<'_> = config.section(target).unwrap();
        let key = api_key.to_owned();
        let auth = move |var: AuthVar| match var {
            AuthVar::ApiKey => Some(key.clone()),
            _ => Some("client_123".to_owned()),
        };
        let build_env = |_: &str| None;
        let inputs = Inputs {
            section,
            framework: None,
            auth: &auth,
            build_env: &build_env,
            auth_pending: false,
        };
        compile(&inputs)
    }

    #[test]
    fn declarations_keep_order_repetitions_and_paths() {
        let desired = compile_json(
            Target::Dev,
            serde_json::json!({ "dev": {
                "configure": {
                    "redirectUris": ["http://b/cb", "http://a/cb", "http://b/cb"],
                    "corsOrigins": ["http://a/"],
                    "appHomepageUrl": "http://a"
                },
                "localEnvVars": { "KEY_FROM_AUTH": "${authEnv.WORKOS_API_KEY}", "PLAIN": "x" }
            } }),
            "sk_test_1",
        )
        .unwrap();

        let uris: Vec<_> = desired
            .declared
            .redirect_uris
            .iter()
            .map(|d| &d.value)
            .collect();
        assert_eq!(uris, ["http://b/cb", "http://a/cb", "http://b/cb"]);
        assert_eq!(desired.state.of_kind(ResourceKind::RedirectUri).count(), 2);
        assert_eq!(
            desired.declared.redirect_uris[2].path,
            "authKit.dev.configure.redirectUris[2]"
        );
        assert_eq!(desired.declared.cors_origins[0].value, "http://a/");
        assert_eq!(
            desired
                .declared
                .app_homepage_url
                .as_ref()
                .map(|d| d.path.as_str()),
            Some("authKit.dev.configure.appHomepageUrl")
        );
        let vars = &desired.declared.local_env_vars;
        assert_eq!(vars[0].name, "KEY_FROM_AUTH");
        assert!(vars[0].from_api_key && vars[0].value.is_sensitive());
        assert_eq!(vars[1].path, "authKit.dev.localEnvVars.PLAIN");
        assert!(!vars[1].from_api_key);
    }

    #[test]
    fn a_non_origin_cors_origin_compiles_and_is_left_to_the_checks() {
        let desired = compile_json(
            Target::Dev,
            serde_json::json!({ "dev": { "configure": { "corsOrigins": ["http://a:3000/"] } } }),
            "sk_test_1",
        );
        assert!(desired.is_ok());
    }

    #[test]
    fn production_is_decided_by_the_prod_section_or_a_live_key() {
        let local = serde_json::json!({ "redirectUris": ["http://localhost:3000/cb"] });

        let prod = serde_json::json!({ "prod": { "configure": local } });
        let error = compile_json(Target::Prod, prod, "sk_x").unwrap_err();
        assert!(
            error.to_string().contains("production WorkOS environment"),
            "{error}"
        );

        let staging = serde_json::json!({
            "prod": { "environmentType": "staging", "configure": local }
        });
        assert!(compile_json(Target::Prod, staging, "sk_test_1").is_ok());

        let dev = serde_json::json!({ "dev": { "configure": local } });
        let error = compile_json(Target::Dev, dev.clone(), "sk_live_1").unwrap_err();
        assert!(error.to_string().contains("sk_live_"), "{error}");
        assert!(compile_json(Target::Dev, dev, "sk_test_1").is_ok());

        // No refusal is documented for CORS origins: that is a finding, not an error.
        let origins = serde_json::json!({
            "prod": { "configure": { "corsOrigins": ["http://localhost:3000"] } }
        });
        assert!(compile_json(Target::Prod, origins, "sk_x").is_ok());
    }
}

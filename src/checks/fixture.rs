//! A builder for check inputs in unit tests: declare values, lay out the live state, run.

use crate::desired::{Declared, DeclaredValue, DeclaredVar};
use crate::framework::Framework;
use crate::state::{Address, Item, ResourceKind, Secret, State, Value, is_sensitive_name};
use crate::target::Target;

use super::{AppEnv, AppEnvSource, CheckId, Finding, Input, run};

pub(crate) struct Fixture {
    pub target: Target,
    pub framework: Option<Framework>,
    pub live_key: bool,
    pub declared: Declared,
    /// Nothing is read, as in `validate`.
    pub offline: bool,
    pub prune: bool,
    pub app_env: AppEnv,
    live_items: Vec<(Address, Item)>,
    unreadable: Vec<ResourceKind>,
}

impl Fixture {
    pub fn dev() -> Fixture {
        Fixture {
            target: Target::Dev,
            framework: None,
            live_key: false,
            declared: Declared::default(),
            offline: false,
            prune: false,
            app_env: AppEnv {
                source: AppEnvSource::EnvLocal,
                values: Default::default(),
            },
            live_items: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    pub fn prod() -> Fixture {
        let mut fixture = Fixture::dev();
        fixture.target = Target::Prod;
        fixture.app_env.source = AppEnvSource::BuildEnvironment;
        fixture
    }

    fn values(&self, key: &str, values: &[&str]) -> Vec<DeclaredValue> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| DeclaredValue {
                path: format!("authKit.{}.configure.{key}[{i}]", self.target),
                value: (*v).to_owned(),
            })
            .collect()
    }

    pub fn redirect_uris(&mut self, uris: &[&str]) -> &mut Fixture {
        self.declared.redirect_uris = self.values("redirectUris", uris);
        self
    }

    pub fn cors_origins(&mut self, origins: &[&str]) -> &mut Fixture {
        self.declared.cors_origins = self.values("corsOrigins", origins);
        self
    }

    pub fn homepage(&mut self, url: &str) -> &mut Fixture {
        self.declared.app_homepage_url = Some(DeclaredValue {
            path: format!("authKit.{}.configure.appHomepageUrl", self.target),
            value: url.to_owned(),
        });
        self
    }

    /// A `localEnvVars` entry: its template (only inspected for the API key) and its value.
    pub fn var(&mut self, name: &str, template: &str, value: &str) -> &mut Fixture {
        let from_api_key = template.contains("${authEnv.WORKOS_API_KEY}");
        let value = if from_api_key || is_sensitive_name(name) {
            Value::Secret(Secret::new(value))
        } else {
            Value::Text(value.to_owned())
        };
        self.declared.local_env_vars.push(DeclaredVar {
            name: name.to_owned(),
            path: format!("authKit.{}.localEnvVars.{name}", self.target),
            value,
            from_api_key,
        });
        self
    }

    pub fn env_local(&mut self, name: &str, value: &str) -> &mut Fixture {
        self.app_env
            .values
            .insert(name.to_owned(), value.to_owned());
        self
    }

    /// A live redirect URI; seen only if `convex.json` manages redirect URIs, as in a real run.
    pub fn live_redirect(&mut self, uri: &str, is_default: bool) -> &mut Fixture {
        let item = Item {
            value: Value::Present,
            remote_id: Some(format!("redirect_uri_{}", self.live_items.len())),
            is_default,
        };
        self.live_items
            .push((Address::new(ResourceKind::RedirectUri, uri), item));
        self
    }

    pub fn live_origin(&mut self, origin: &str) -> &mut Fixture {
        let item = Item {
            value: Value::Present,
            remote_id: Some(format!("cors_origin_{}", self.live_items.len())),
            is_default: false,
        };
        self.live_items
            .push((Address::new(ResourceKind::CorsOrigin, origin), item));
        self
    }

    /// The list endpoint of `kind` answers 404: create-if-absent.
    pub fn unreadable(&mut self, kind: ResourceKind) -> &mut Fixture {
        self.unreadable.push(kind);
        self
    }

    /// The live state a run would have read: managed set kinds only.
    fn live(&self) -> State {
        let mut live = State::new();
        let managed = [
            (
                ResourceKind::RedirectUri,
                !self.declared.redirect_uris.is_empty(),
            ),
            (
                ResourceKind::CorsOrigin,
                !self.declared.cors_origins.is_empty(),
            ),
        ];
        for (kind, is_managed) in managed {
            if !is_managed {
                continue;
            }
            if self.unreadable.contains(&kind) {
                live.mark_unreadable(kind, "GET answered 404");
                continue;
            }
            live.mark_read(kind);
            for (address, item) in &self.live_items {
                if address.kind() == kind {
                    live.insert(address.clone(), item.clone());
                }
            }
        }
        live
    }

    pub fn run(&self) -> Vec<Finding> {
        let live = self.live();
        let input = Input {
            target: self.target,
            framework: self.framework,
            live_key: self.live_key,
            declared: &self.declared,
            live: (!self.offline).then_some(&live),
            prune: self.prune,
            app_env: &self.app_env,
        };
        run(&input)
    }

    /// The findings of one check.
    pub fn of(&self, id: CheckId) -> Vec<Finding> {
        self.run().into_iter().filter(|f| f.id == id).collect()
    }

    pub fn ids(&self) -> Vec<CheckId> {
        self.run().into_iter().map(|f| f.id).collect()
    }
}

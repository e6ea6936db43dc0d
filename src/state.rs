//! The shared vocabulary of the pipeline: addresses, values and states.
//!
//! Desired and live state are the same type. The config compiles into a [`State`], each provider
//! reads its part of a [`State`], and the planner compares the two. Nothing here performs I/O or
//! knows any provider.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Every kind of resource the tool manages, in apply order.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum ResourceKind {
    #[serde(rename = "workos.environment")]
    Environment,
    #[serde(rename = "convex.env_var")]
    ConvexEnvVar,
    #[serde(rename = "workos.redirect_uri")]
    RedirectUri,
    #[serde(rename = "workos.cors_origin")]
    CorsOrigin,
    #[serde(rename = "workos.app_homepage_url")]
    AppHomepageUrl,
    #[serde(rename = "env_file.var")]
    EnvFileVar,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::Environment,
        ResourceKind::ConvexEnvVar,
        ResourceKind::RedirectUri,
        ResourceKind::CorsOrigin,
        ResourceKind::AppHomepageUrl,
        ResourceKind::EnvFileVar,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Environment => "workos.environment",
            ResourceKind::ConvexEnvVar => "convex.env_var",
            ResourceKind::RedirectUri => "workos.redirect_uri",
            ResourceKind::CorsOrigin => "workos.cors_origin",
            ResourceKind::AppHomepageUrl => "workos.app_homepage_url",
            ResourceKind::EnvFileVar => "env_file.var",
        }
    }

    /// Members of a set (redirect URIs, origins) are identified by their value alone: the
    /// address carries the value and there is nothing to update, only to create or delete.
    pub fn is_set_member(self) -> bool {
        matches!(self, ResourceKind::RedirectUri | ResourceKind::CorsOrigin)
    }

    /// Singletons have one address without a name.
    pub fn is_singleton(self) -> bool {
        self == ResourceKind::AppHomepageUrl
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed resource address such as `workos.redirect_uri["http://localhost:3000/callback"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    kind: ResourceKind,
    name: Option<String>,
}

impl Address {
    pub fn new(kind: ResourceKind, name: impl Into<String>) -> Address {
        Address {
            kind,
            name: Some(name.into()),
        }
    }

    pub fn singleton(kind: ResourceKind) -> Address {
        Address { kind, name: None }
    }

    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// The key inside the brackets: the URI, origin or variable name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Parses the display form back, as users type it in `--ignore` patterns and plan files.
    pub fn parse(text: &str) -> Option<Address> {
        let (kind_text, rest) = match text.find('[') {
            Some(i) => (&text[..i], Some(&text[i..])),
            None => (text, None),
        };
        let kind = ResourceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == kind_text)?;
        match rest {
            None => Some(Address::singleton(kind)),
            Some(bracketed) => {
                let inner = bracketed.strip_prefix('[')?.strip_suffix(']')?;
                let name: String = serde_json::from_str(inner).ok()?;
                Some(Address::new(kind, name))
            }
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.as_str())?;
        if let Some(name) = &self.name {
            // JSON string syntax keeps quotes and control characters unambiguous.
            let quoted = serde_json::to_string(name).map_err(|_| fmt::Error)?;
            write!(f, "[{quoted}]")?;
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Address::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a resource address: {text}")))
    }
}

/// A secret string. It has no `Display`, and its `Debug` is masked, so it cannot reach output
/// by accident; code that needs the text calls [`Secret::expose`] at the one place it is sent.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// The value of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A set member exists; its address already says which.
    Present,
    /// Plain text, safe to show.
    Text(String),
    /// Text that must never be shown.
    Secret(Secret),
    /// Desired only: any non-empty existing value is kept, else a random one is generated at
    /// apply time (the cookie password).
    Generated,
    /// Desired only: known once an earlier step of apply has run (a credential of an
    /// environment that is yet to be provisioned).
    Pending,
}

impl Value {
    /// Whether two values are the same for planning. `Generated` matches any live value.
    pub fn satisfied_by(&self, live: &Value) -> bool {
        match (self, live) {
            (Value::Generated, _) => true,
            (Value::Pending, _) => false,
            (Value::Present, Value::Present) => true,
            (a, b) => a.text() == b.text() && a.text().is_some(),
        }
    }

    /// The text of a text or secret value, whatever its sensitivity.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) => Some(t),
            Value::Secret(s) => Some(s.expose()),
            Value::Present | Value::Generated | Value::Pending => None,
        }
    }

    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Secret(_) | Value::Generated)
    }
}

/// One resource as a state holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub value: Value,
    /// The server's id for the resource, needed to delete it.
    pub remote_id: Option<String>,
    /// WorkOS marks one redirect URI as the environment's default.
    pub is_default: bool,
}

impl Item {
    pub fn new(value: Value) -> Item {
        Item {
            value,
            remote_id: None,
            is_default: false,
        }
    }
}

/// Why a provider could not read a resource kind; the planner then plans "ensure present".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub reason: String,
    /// The kind is unreadable only until an earlier apply step has run (provisioning).
    pub pending: bool,
}

/// A set of resources: the desired state compiled from config, or the live state read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    items: BTreeMap<Address, Item>,
    /// Kinds that were read, and so are known in full.
    read: Vec<ResourceKind>,
    unreadable: BTreeMap<ResourceKind, Unreadable>,
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    pub fn insert(&mut self, address: Address, item: Item) {
        self.items.insert(address, item);
    }

    pub fn get(&self, address: &Address) -> Option<&Item> {
        self.items.get(address)
    }

    pub fn items(&self) -> impl Iterator<Item = (&Address, &Item)> {
        self.items.iter()
    }

    pub fn of_kind(&self, kind: ResourceKind) -> impl Iterator<Item = (&Address, &Item)> {
        self.items.iter().filter(move |(a, _)| a.kind() == kind)
    }

    /// Records that `kind` was read completely (an empty list is knowledge too).
    pub fn mark_read(&mut self, kind: ResourceKind) {
        if !self.read.contains(&kind) {
            self.read.push(kind);
        }
    }

    pub fn is_read(&self, kind: ResourceKind) -> bool {
        self.read.contains(&kind)
    }

    pub fn mark_unreadable(&mut self, kind: ResourceKind, reason: impl Into<String>) {
        let unreadable = Unreadable {
            reason: reason.into(),
            pending: false,
        };
        self.unreadable.insert(kind, unreadable);
    }

    /// Records that `kind` can be read only after an earlier apply step.
    pub fn mark_pending(&mut self, kind: ResourceKind, reason: impl Into<String>) {
        let unreadable = Unreadable {
            reason: reason.into(),
            pending: true,
        };
        self.unreadable.insert(kind, unreadable);
    }

    pub fn unreadable(&self, kind: ResourceKind) -> Option<&Unreadable> {
        self.unreadable.get(&kind)
    }

    pub fn unreadable_kinds(&self) -> impl Iterator<Item = (ResourceKind, &Unreadable)> {
        self.unreadable.iter().map(|(k, u)| (*k, u))
    }

    /// Folds another provider's part into this state.
    pub fn merge(&mut self, other: State) {
        self.items.extend(other.items);
        for kind in other.read {
            self.mark_read(kind);
        }
        self.unreadable.extend(other.unreadable);
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Whether a variable's name marks its value as secret.
pub fn is_sensitive_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["KEY", "SECRET", "PASSWORD", "TOKEN"]
        .iter()
        .any(|word| upper.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_their_display_form() {
        let cases = [
            Address::new(ResourceKind::RedirectUri, "http://localhost:3000/callback"),
            Address::new(ResourceKind::EnvFileVar, "WORKOS_CLIENT_ID"),
            Address::new(ResourceKind::CorsOrigin, "odd \"quoted\" ]["),
            Address::singleton(ResourceKind::AppHomepageUrl),
        ];
        for address in cases {
            assert_eq!(Address::parse(&address.to_string()), Some(address));
        }
        assert_eq!(
            Address::new(ResourceKind::RedirectUri, "http://a/cb").to_string(),
            r#"workos.redirect_uri["http://a/cb"]"#
        );
        assert_eq!(Address::parse("workos.nothing"), None);
        assert_eq!(Address::parse("env_file.var[WORKOS]"), None);
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let value = Value::Secret(Secret::new("sk_test_hidden"));
        assert!(!format!("{value:?}").contains("hidden"));
    }

    #[test]
    fn sensitive_names() {
        for name in [
            "WORKOS_API_KEY",
            "WORKOS_COOKIE_PASSWORD",
            "my_secret",
            "GH_TOKEN",
        ] {
            assert!(is_sensitive_name(name), "{name}");
        }
        for name in ["WORKOS_CLIENT_ID", "NEXT_PUBLIC_WORKOS_REDIRECT_URI"] {
            assert!(!is_sensitive_name(name), "{name}");
        }
    }
}

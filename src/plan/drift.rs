//! Drift: how far the live state has moved from what `convex.json` wants, kept apart from what
//! cannot be checked at all, minus what the user chose to ignore.

use crate::state::Address;

use super::{Action, Plan};

/// A `--ignore` pattern over resource addresses, where `*` matches any run of characters:
/// `workos.redirect_uri["http://localhost:*"]`, `env_file.var["*"]`.
///
/// Written by hand: only `*` is needed, and path-glob crates give `/` a meaning that addresses
/// (which contain URLs) must not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressPattern(String);

impl AddressPattern {
    pub fn new(text: impl Into<String>) -> AddressPattern {
        AddressPattern(text.into())
    }

    /// Whether the text looks like an address pattern rather than something else (a check id).
    pub fn looks_like_address(text: &str) -> bool {
        ["workos.", "env_file.", "convex."]
            .iter()
            .any(|prefix| text.starts_with(prefix))
    }

    pub fn matches(&self, address: &Address) -> bool {
        glob_match(&self.0, &address.to_string())
    }
}

fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// Live state differs from the config: missing or different items, and live items the
    /// config does not name.
    pub drifted: Vec<Address>,
    /// Items that cannot be read back, so cannot be checked.
    pub unverifiable: Vec<Address>,
    pub ignored: Vec<Address>,
}

impl Drift {
    pub fn assess(plan: &Plan, ignore: &[AddressPattern]) -> Drift {
        let mut drift = Drift::default();
        let mut sort = |address: &Address, bucket: fn(&mut Drift) -> &mut Vec<Address>| {
            if ignore.iter().any(|p| p.matches(address)) {
                drift.ignored.push(address.clone());
            } else {
                bucket(&mut drift).push(address.clone());
            }
        };
        for change in &plan.changes {
            match change.action {
                Action::Create | Action::Provision | Action::Update | Action::Delete => {
                    sort(&change.address, |d| &mut d.drifted)
                }
                Action::Unverified | Action::Set => sort(&change.address, |d| &mut d.unverifiable),
                Action::NoOp => {}
            }
        }
        for item in &plan.unmanaged {
            sort(&item.address, |d| &mut d.drifted);
        }
        drift
    }

    /// In sync: nothing drifted; with `strict`, nothing unverifiable either.
    pub fn in_sync(&self, strict: bool) -> bool {
        self.drifted.is_empty() && (!strict || self.unverifiable.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ResourceKind;

    #[test]
    fn patterns_match_with_stars() {
        let uri = Address::new(ResourceKind::RedirectUri, "http://localhost:3000/callback");
        for (pattern, expected) in [
            (r#"workos.redirect_uri["http://localhost:*"]"#, true),
            ("workos.redirect_uri*", true),
            ("*callback\"]", true),
            ("*", true),
            (
                r#"workos.redirect_uri["http://localhost:3000/callback"]"#,
                true,
            ),
            (r#"workos.redirect_uri["https://*"]"#, false),
            ("workos.cors_origin*", false),
            ("workos.redirect_uri", false),
            ("*q*z*", false),
            ("*local*3000*back*", true),
        ] {
            assert_eq!(
                AddressPattern::new(pattern).matches(&uri),
                expected,
                "{pattern}"
            );
        }
    }
}

//! What a set kind (redirect URIs, CORS origins) will hold once apply has run, and how sure
//! that is: the checks compare the app's needs with this rather than with the config alone.

use crate::state::ResourceKind;

use super::Input;

/// How much is known about the members a kind will have after apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Knowledge<'a> {
    /// The live list was read: the members are exactly these.
    Complete,
    /// The list cannot be read (create-if-absent): these will exist, and others may.
    Unreadable(&'a str),
    /// `convex.json` declares none of this kind, so the list is left alone and not read.
    Unmanaged,
    /// Nothing was read in this run (`validate`).
    Offline,
}

/// The members a kind will have after apply: the declared ones, plus the live ones that apply
/// keeps (all of them, or under `--prune` only the default redirect URI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Expected<'a> {
    pub members: Vec<&'a str>,
    pub knowledge: Knowledge<'a>,
}

pub(super) fn expected<'a>(input: &Input<'a>, kind: ResourceKind) -> Expected<'a> {
    let declared = match kind {
        ResourceKind::CorsOrigin => &input.declared.cors_origins,
        _ => &input.declared.redirect_uris,
    };
    let mut members: Vec<&'a str> = declared.iter().map(|d| d.value.as_str()).collect();

    let knowledge = match input.live {
        _ if declared.is_empty() => Knowledge::Unmanaged,
        None => Knowledge::Offline,
        Some(live) => match live.unreadable(kind) {
            Some(unreadable) => Knowledge::Unreadable(&unreadable.reason),
            None if live.is_read(kind) => {
                let kept = live
                    .of_kind(kind)
                    .filter(|(_, item)| !input.prune || item.is_default)
                    .filter_map(|(address, _)| address.name());
                members.extend(kept);
                Knowledge::Complete
            }
            None => Knowledge::Offline,
        },
    };
    Expected { members, knowledge }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::*;
    use crate::state::State;

    fn members(fixture: &Fixture, live: &State, kind: ResourceKind) -> Vec<String> {
        let input = Input {
            target: fixture.target,
            framework: None,
            live_key: false,
            declared: &fixture.declared,
            live: Some(live),
            prune: fixture.prune,
            app_env: &fixture.app_env,
        };
        let mut members: Vec<String> = expected(&input, kind)
            .members
            .into_iter()
            .map(str::to_owned)
            .collect();
        members.sort();
        members
    }

    #[test]
    fn prune_keeps_only_the_default() {
        let mut fixture = Fixture::dev();
        fixture.redirect_uris(&["http://a/cb"]);
        let mut live = State::new();
        live.mark_read(ResourceKind::RedirectUri);
        for (uri, is_default) in [("http://old/cb", false), ("http://default/cb", true)] {
            let mut item = crate::state::Item::new(crate::state::Value::Present);
            item.is_default = is_default;
            live.insert(
                crate::state::Address::new(ResourceKind::RedirectUri, uri),
                item,
            );
        }

        let all = members(&fixture, &live, ResourceKind::RedirectUri);
        assert_eq!(all, ["http://a/cb", "http://default/cb", "http://old/cb"]);
        fixture.prune = true;
        let pruned = members(&fixture, &live, ResourceKind::RedirectUri);
        assert_eq!(pruned, ["http://a/cb", "http://default/cb"]);
    }
}

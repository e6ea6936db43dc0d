//! The planner: a pure comparison of desired and live state.

use std::collections::BTreeMap;

use crate::state::{Address, Item, ResourceKind, State, Value};
use crate::target::Target;

use super::{Action, Capability, Change, Plan, Unmanaged};

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    /// Delete live set members that the config does not name.
    pub prune: bool,
}

/// Compares `desired` with `live` for the kinds the config manages (`managed`), and orders the
/// result in apply order.
pub fn diff(
    target: Target,
    managed: &[ResourceKind],
    desired: &State,
    live: &State,
    options: DiffOptions,
) -> Plan {
    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut capabilities = BTreeMap::new();

    for &kind in managed {
        if kind.is_set_member() {
            diff_set(kind, desired, live, options, &mut changes, &mut unmanaged);
        } else if kind.is_singleton() {
            diff_write_only(kind, desired, &mut changes);
        } else {
            diff_values(kind, desired, live, &mut changes);
        }
        if let Some(capability) = capability(kind, live) {
            capabilities.insert(kind, capability);
        }
    }

    changes.sort_by(|a, b| (a.stage(), &a.address).cmp(&(b.stage(), &b.address)));
    unmanaged.sort_by(|a, b| a.address.cmp(&b.address));
    Plan {
        target,
        changes,
        unmanaged,
        capabilities,
    }
}

fn capability(kind: ResourceKind, live: &State) -> Option<Capability> {
    if kind == ResourceKind::AppHomepageUrl {
        return Some(Capability::WriteOnly {
            reason: WRITE_ONLY_REASON.to_owned(),
        });
    }
    if let Some(unreadable) = live.unreadable(kind) {
        let reason = unreadable.reason.clone();
        return Some(if unreadable.pending {
            Capability::KnownAfterApply { reason }
        } else {
            Capability::CreateIfAbsent { reason }
        });
    }
    kind.is_set_member().then_some(Capability::FullDiff)
}

const WRITE_ONLY_REASON: &str =
    "WorkOS has no endpoint to read the app homepage URL back; apply sends it every time";

fn diff_set(
    kind: ResourceKind,
    desired: &State,
    live: &State,
    options: DiffOptions,
    changes: &mut Vec<Change>,
    unmanaged: &mut Vec<Unmanaged>,
) {
    if let Some(unreadable) = live.unreadable(kind) {
        // Pending: the environment does not exist yet, so its lists are empty once it does;
        // the creates are real, but known only after provisioning.
        let (action, reason) = if unreadable.pending {
            (
                Action::Create,
                format!("known after apply: {}", unreadable.reason),
            )
        } else {
            (
                Action::Unverified,
                format!("ensure present: {}", unreadable.reason),
            )
        };
        for (address, _) in desired.of_kind(kind) {
            changes.push(Change {
                address: address.clone(),
                action,
                before: None,
                after: Some(Value::Present),
                reason: Some(reason.clone()),
                remote_id: None,
            });
        }
        return;
    }

    for (address, _) in desired.of_kind(kind) {
        let (action, before) = match live.get(address) {
            Some(_) => (Action::NoOp, Some(Value::Present)),
            None => (Action::Create, None),
        };
        changes.push(Change {
            address: address.clone(),
            action,
            before,
            after: Some(Value::Present),
            reason: None,
            remote_id: live.get(address).and_then(|item| item.remote_id.clone()),
        });
    }

    for (address, item) in live.of_kind(kind) {
        if desired.get(address).is_some() {
            continue;
        }
        // WorkOS offers no way to choose another default by API key, and deleting the default
        // would leave sign-in flows without a fallback: it stays, with a note saying why.
        if options.prune && !item.is_default {
            changes.push(Change {
                address: address.clone(),
                action: Action::Delete,
                before: Some(Value::Present),
                after: None,
                reason: Some("not in convex.json (--prune)".to_owned()),
                remote_id: item.remote_id.clone(),
            });
        } else {
            unmanaged.push(unmanaged_item(address, item, options.prune));
        }
    }
}

fn unmanaged_item(address: &Address, item: &Item, prune: bool) -> Unmanaged {
    let note = match (item.is_default, prune) {
        (true, true) => Some(
            "the environment's default redirect URI is never pruned; choose another default \
             in the WorkOS dashboard first"
                .to_owned(),
        ),
        (true, false) => Some("the environment's default redirect URI".to_owned()),
        (false, _) => None,
    };
    Unmanaged {
        address: address.clone(),
        remote_id: item.remote_id.clone(),
        note,
    }
}

fn diff_write_only(kind: ResourceKind, desired: &State, changes: &mut Vec<Change>) {
    for (address, item) in desired.of_kind(kind) {
        changes.push(Change {
            address: address.clone(),
            action: Action::Unverified,
            before: None,
            after: Some(item.value.clone()),
            reason: Some(WRITE_ONLY_REASON.to_owned()),
            remote_id: None,
        });
    }
}

/// Named values (`.env.local` and deployment variables): create when absent or empty, update
/// when different. Live variables the config does not name belong to the user, not to us.
fn diff_values(kind: ResourceKind, desired: &State, live: &State, changes: &mut Vec<Change>) {
    for (address, item) in desired.of_kind(kind) {
        // `NAME=` counts as absent, as the Convex CLI treats it: a generated value or a
        // credential is written there. Only a desired empty value is satisfied by it.
        let current = live
            .get(address)
            .map(|live_item| &live_item.value)
            .filter(|value| value.text() != Some("") || item.value.text() == Some(""));
        let action = match current {
            None if kind == ResourceKind::Environment => Action::Provision,
            None => Action::Create,
            Some(value) if item.value.satisfied_by(value) => Action::NoOp,
            Some(_) => Action::Update,
        };
        changes.push(Change {
            address: address.clone(),
            action,
            before: current.cloned(),
            after: Some(item.value.clone()),
            reason: None,
            remote_id: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Secret;

    fn uri(text: &str) -> Address {
        Address::new(ResourceKind::RedirectUri, text)
    }

    fn var(name: &str) -> Address {
        Address::new(ResourceKind::EnvFileVar, name)
    }

    fn live_uri(state: &mut State, text: &str, id: &str, is_default: bool) {
        state.insert(
            uri(text),
            Item {
                value: Value::Present,
                remote_id: Some(id.to_owned()),
                is_default,
            },
        );
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.changes
            .iter()
            .map(|c| (c.address.to_string(), c.action))
            .collect()
    }

    const URIS: &[ResourceKind] = &[ResourceKind::RedirectUri];

    #[test]
    fn set_members_are_created_kept_or_left_unmanaged() {
        let mut desired = State::new();
        desired.insert(uri("http://a/cb"), Item::new(Value::Present));
        desired.insert(uri("http://b/cb"), Item::new(Value::Present));
        let mut live = State::new();
        live.mark_read(ResourceKind::RedirectUri);
        live_uri(&mut live, "http://b/cb", "ru_b", true);
        live_uri(&mut live, "http://old/cb", "ru_old", false);

        let plan = diff(Target::Dev, URIS, &desired, &live, DiffOptions::default());

        assert_eq!(
            actions(&plan),
            vec![
                (uri("http://a/cb").to_string(), Action::Create),
                (uri("http://b/cb").to_string(), Action::NoOp),
            ]
        );
        assert_eq!(plan.unmanaged.len(), 1);
        assert_eq!(plan.unmanaged[0].address, uri("http://old/cb"));
        assert_eq!(
            plan.capabilities[&ResourceKind::RedirectUri],
            Capability::FullDiff
        );
    }

    #[test]
    fn prune_deletes_after_creates_but_never_the_default() {
        let mut desired = State::new();
        desired.insert(uri("http://new/cb"), Item::new(Value::Present));
        let mut live = State::new();
        live.mark_read(ResourceKind::RedirectUri);
        live_uri(&mut live, "http://a-old/cb", "ru_1", false);
        live_uri(&mut live, "http://default/cb", "ru_2", true);

        let plan = diff(
            Target::Dev,
            URIS,
            &desired,
            &live,
            DiffOptions { prune: true },
        );

        assert_eq!(
            actions(&plan),
            vec![
                (uri("http://new/cb").to_string(), Action::Create),
                (uri("http://a-old/cb").to_string(), Action::Delete),
            ]
        );
        assert_eq!(plan.changes[1].remote_id.as_deref(), Some("ru_1"));
        assert_eq!(plan.unmanaged[0].address, uri("http://default/cb"));
        assert!(
            plan.unmanaged[0]
                .note
                .as_deref()
                .unwrap_or("")
                .contains("never pruned")
        );
    }

    #[test]
    fn unreadable_lists_become_unverified_with_the_reason() {
        let mut desired = State::new();
        desired.insert(uri("http://a/cb"), Item::new(Value::Present));
        let mut live = State::new();
        live.mark_unreadable(ResourceKind::RedirectUri, "GET answered 404");

        let plan = diff(
            Target::Dev,
            URIS,
            &desired,
            &live,
            DiffOptions { prune: true },
        );

        assert_eq!(
            actions(&plan),
            vec![(uri("http://a/cb").to_string(), Action::Unverified)]
        );
        assert!(
            plan.changes[0]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("404")
        );
        assert!(!plan.summary().has_changes(false));
        assert!(plan.summary().has_changes(true));
    }

    #[test]
    fn homepage_is_always_unverified_never_a_change() {
        let mut desired = State::new();
        let homepage = Address::singleton(ResourceKind::AppHomepageUrl);
        desired.insert(
            homepage,
            Item::new(Value::Text("https://app.example.com".into())),
        );

        let plan = diff(
            Target::Prod,
            &[ResourceKind::AppHomepageUrl],
            &desired,
            &State::new(),
            DiffOptions::default(),
        );

        assert_eq!(plan.changes[0].action, Action::Unverified);
        assert_eq!(
            plan.changes[0].operation(),
            Some(super::super::Operation::Set)
        );
        assert!(!plan.summary().has_changes(false));
    }

    #[test]
    fn variables_are_created_updated_or_kept() {
        let mut desired = State::new();
        desired.insert(var("A"), Item::new(Value::Text("1".into())));
        desired.insert(var("B"), Item::new(Value::Text("2".into())));
        desired.insert(var("C"), Item::new(Value::Secret(Secret::new("s"))));
        desired.insert(var("D"), Item::new(Value::Generated));
        desired.insert(var("E"), Item::new(Value::Generated));
        let mut live = State::new();
        live.insert(var("A"), Item::new(Value::Text("1".into())));
        live.insert(var("B"), Item::new(Value::Text("old".into())));
        live.insert(var("C"), Item::new(Value::Text(String::new())));
        live.insert(var("D"), Item::new(Value::Secret(Secret::new("kept"))));
        live.insert(var("UNRELATED"), Item::new(Value::Text("x".into())));

        let plan = diff(
            Target::Dev,
            &[ResourceKind::EnvFileVar],
            &desired,
            &live,
            DiffOptions::default(),
        );

        assert_eq!(
            actions(&plan),
            vec![
                (var("A").to_string(), Action::NoOp),
                (var("B").to_string(), Action::Update),
                (var("C").to_string(), Action::Create),
                (var("D").to_string(), Action::NoOp),
                (var("E").to_string(), Action::Create),
            ]
        );
        assert!(plan.unmanaged.is_empty());
    }

    #[test]
    fn changes_come_in_stage_order() {
        let mut desired = State::new();
        desired.insert(var("A"), Item::new(Value::Text("1".into())));
        desired.insert(uri("http://z/cb"), Item::new(Value::Present));
        desired.insert(
            Address::singleton(ResourceKind::AppHomepageUrl),
            Item::new(Value::Text("https://h".into())),
        );
        let mut live = State::new();
        live.mark_read(ResourceKind::RedirectUri);
        live_uri(&mut live, "http://a/cb", "ru_a", false);
        let managed = [
            ResourceKind::EnvFileVar,
            ResourceKind::AppHomepageUrl,
            URIS[0],
        ];

        let plan = diff(
            Target::Dev,
            &managed,
            &desired,
            &live,
            DiffOptions { prune: true },
        );

        let kinds: Vec<_> = plan.changes.iter().map(|c| (c.kind(), c.action)).collect();
        assert_eq!(
            kinds,
            vec![
                (ResourceKind::RedirectUri, Action::Create),
                (ResourceKind::AppHomepageUrl, Action::Unverified),
                (ResourceKind::EnvFileVar, Action::Create),
                (ResourceKind::RedirectUri, Action::Delete),
            ]
        );
    }

    #[test]
    fn provisioning_plans_the_environment_and_known_after_apply_creates() {
        let mut desired = State::new();
        let environment = Address::new(ResourceKind::Environment, "dev:happy-otter-123");
        desired.insert(environment, Item::new(Value::Present));
        desired.insert(uri("http://a/cb"), Item::new(Value::Present));
        desired.insert(var("WORKOS_CLIENT_ID"), Item::new(Value::Pending));
        let mut live = State::new();
        live.mark_pending(ResourceKind::RedirectUri, "provisioned first");
        live.insert(
            var("WORKOS_CLIENT_ID"),
            Item::new(Value::Text("client_old".into())),
        );
        let managed = [ResourceKind::Environment, URIS[0], ResourceKind::EnvFileVar];

        let plan = diff(
            Target::Dev,
            &managed,
            &desired,
            &live,
            DiffOptions::default(),
        );

        let kinds: Vec<_> = plan.changes.iter().map(|c| (c.kind(), c.action)).collect();
        assert_eq!(
            kinds,
            vec![
                (ResourceKind::Environment, Action::Provision),
                (ResourceKind::RedirectUri, Action::Create),
                (ResourceKind::EnvFileVar, Action::Update),
            ]
        );
        assert!(
            plan.changes[1]
                .reason
                .as_deref()
                .unwrap_or("")
                .contains("known after apply")
        );
        assert!(matches!(
            plan.capabilities[&ResourceKind::RedirectUri],
            Capability::KnownAfterApply { .. }
        ));
    }
}

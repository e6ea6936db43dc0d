//! Properties of the planner: applying a plan to the live state leaves nothing to do, and the
//! result does not depend on the order items were listed in.

use authkit_sync::plan::{Action, DiffOptions, diff};
use authkit_sync::state::{Address, Item, ResourceKind, State, Value};
use authkit_sync::target::Target;
use proptest::prelude::*;

const MANAGED: &[ResourceKind] = &[
    ResourceKind::RedirectUri,
    ResourceKind::CorsOrigin,
    ResourceKind::EnvFileVar,
];

fn uri_set() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("http://h[a-c]/p[0-3]", 0..6)
}

fn vars() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("V[A-D]", "[a-c]{0,2}"), 0..5)
}

fn desired_state(uris: &[String], origins: &[String], vars: &[(String, String)]) -> State {
    let mut state = State::new();
    for uri in uris {
        state.insert(
            Address::new(ResourceKind::RedirectUri, uri),
            Item::new(Value::Present),
        );
    }
    for origin in origins {
        state.insert(
            Address::new(ResourceKind::CorsOrigin, origin),
            Item::new(Value::Present),
        );
    }
    for (name, value) in vars {
        let value = Value::Text(value.clone());
        state.insert(
            Address::new(ResourceKind::EnvFileVar, name),
            Item::new(value),
        );
    }
    state
}

fn live_state(uris: &[String], origins: &[String], vars: &[(String, String)]) -> State {
    let mut state = desired_state(uris, origins, vars);
    let ids: Vec<Address> = state.items().map(|(a, _)| a.clone()).collect();
    for (i, address) in ids.into_iter().enumerate() {
        let value = state
            .get(&address)
            .map(|item| item.value.clone())
            .unwrap_or(Value::Present);
        let item = Item {
            value,
            remote_id: Some(format!("id_{i}")),
            is_default: false,
        };
        state.insert(address, item);
    }
    for kind in MANAGED {
        state.mark_read(*kind);
    }
    state
}

/// What the live state looks like after the plan's operations succeeded.
fn simulate(live: &State, plan: &authkit_sync::plan::Plan) -> State {
    let mut next = State::new();
    for kind in MANAGED {
        next.mark_read(*kind);
    }
    let deleted: Vec<&Address> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .map(|c| &c.address)
        .collect();
    for (address, item) in live.items() {
        if !deleted.contains(&address) {
            next.insert(address.clone(), item.clone());
        }
    }
    for change in plan.actionable() {
        if let (Action::Create | Action::Update, Some(after)) = (change.action, &change.after) {
            let item = Item {
                value: after.clone(),
                remote_id: Some("new".into()),
                is_default: false,
            };
            next.insert(change.address.clone(), item);
        }
    }
    next
}

proptest! {
    #[test]
    fn a_second_plan_after_apply_is_empty(
        want_uris in uri_set(), want_origins in uri_set(), want_vars in vars(),
        have_uris in uri_set(), have_origins in uri_set(), have_vars in vars(),
        prune in any::<bool>(),
    ) {
        let desired = desired_state(&want_uris, &want_origins, &want_vars);
        let live = live_state(&have_uris, &have_origins, &have_vars);
        let options = DiffOptions { prune };

        let plan = diff(Target::Dev, MANAGED, &desired, &live, options);
        let after = simulate(&live, &plan);
        let second = diff(Target::Dev, MANAGED, &desired, &after, options);

        prop_assert!(!second.summary().has_changes(true), "{:?}", second.changes);
        if prune {
            prop_assert!(second.unmanaged.is_empty());
        }
    }

    #[test]
    fn the_plan_does_not_depend_on_listing_order(
        want in uri_set(), have in uri_set(), prune in any::<bool>(),
    ) {
        let desired = desired_state(&want, &[], &[]);
        let mut reversed = have.clone();
        reversed.reverse();
        let a = diff(Target::Dev, MANAGED, &desired, &live_state(&have, &[], &[]),
            DiffOptions { prune });
        let b = diff(Target::Dev, MANAGED, &desired, &live_state(&reversed, &[], &[]),
            DiffOptions { prune });
        let actions = |p: &authkit_sync::plan::Plan| -> Vec<(String, Action)> {
            p.changes.iter().map(|c| (c.address.to_string(), c.action)).collect()
        };
        prop_assert_eq!(actions(&a), actions(&b));
    }
}

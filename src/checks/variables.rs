//! Where each framework's AuthKit library reads its redirect URI from, and which variable names
//! a bundler hands to browser code. docs/checks.md lists the same table with its sources.

use crate::framework::Framework;

pub const NEXT_PUBLIC_WORKOS_REDIRECT_URI: &str = "NEXT_PUBLIC_WORKOS_REDIRECT_URI";
pub const WORKOS_REDIRECT_URI: &str = "WORKOS_REDIRECT_URI";
pub const VITE_WORKOS_REDIRECT_URI: &str = "VITE_WORKOS_REDIRECT_URI";
pub const REACT_APP_WORKOS_REDIRECT_URI: &str = "REACT_APP_WORKOS_REDIRECT_URI";
pub const EXPO_PUBLIC_WORKOS_REDIRECT_URI: &str = "EXPO_PUBLIC_WORKOS_REDIRECT_URI";

/// Every name any supported framework reads its redirect URI from.
pub const REDIRECT_VARIABLES: [&str; 5] = [
    NEXT_PUBLIC_WORKOS_REDIRECT_URI,
    WORKOS_REDIRECT_URI,
    VITE_WORKOS_REDIRECT_URI,
    REACT_APP_WORKOS_REDIRECT_URI,
    EXPO_PUBLIC_WORKOS_REDIRECT_URI,
];

/// The variables the app reads its redirect URI from, most current first.
///
/// The server libraries read a fixed name: `@workos-inc/authkit-nextjs` reads
/// `NEXT_PUBLIC_WORKOS_REDIRECT_URI` (its releases before the rename read `WORKOS_REDIRECT_URI`);
/// the TanStack Start, React Router, Remix and SvelteKit libraries derive `WORKOS_REDIRECT_URI`
/// from their `redirectUri` setting. The browser library (`@workos-inc/authkit-react`) reads no
/// variable: the app passes `redirectUri`, and the names below are what the bundler exposes
/// and the Convex templates use. With no framework detected every name is considered.
pub fn redirect_variables(framework: Option<Framework>) -> &'static [&'static str] {
    match framework {
        Some(Framework::NextJs) => &[NEXT_PUBLIC_WORKOS_REDIRECT_URI, WORKOS_REDIRECT_URI],
        Some(
            Framework::TanStackStart
            | Framework::ReactRouter
            | Framework::Remix
            | Framework::SvelteKit,
        ) => &[WORKOS_REDIRECT_URI],
        Some(Framework::Vite) => &[VITE_WORKOS_REDIRECT_URI],
        Some(Framework::CreateReactApp) => &[REACT_APP_WORKOS_REDIRECT_URI],
        Some(Framework::Expo) => &[EXPO_PUBLIC_WORKOS_REDIRECT_URI],
        None => &REDIRECT_VARIABLES,
    }
}

/// Prefixes that bundlers use to mark a variable for the browser: Next.js, Vite, SvelteKit and
/// Astro (`PUBLIC_`), Expo and Create React App inline these into the JavaScript they serve.
pub const PUBLIC_PREFIXES: [&str; 5] = [
    "NEXT_PUBLIC_",
    "VITE_",
    "PUBLIC_",
    "EXPO_PUBLIC_",
    "REACT_APP_",
];

/// The browser prefix of `name`, if it has one.
pub fn public_prefix(name: &str) -> Option<&'static str> {
    PUBLIC_PREFIXES
        .into_iter()
        .find(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_framework_reads_known_names() {
        let frameworks = [
            Framework::CreateReactApp,
            Framework::NextJs,
            Framework::Expo,
            Framework::SvelteKit,
            Framework::TanStackStart,
            Framework::Remix,
            Framework::ReactRouter,
            Framework::Vite,
        ];
        for framework in frameworks {
            let names = redirect_variables(Some(framework));
            assert!(!names.is_empty(), "{framework:?}");
            assert!(names.iter().all(|n| REDIRECT_VARIABLES.contains(n)));
        }
        assert_eq!(redirect_variables(None), REDIRECT_VARIABLES);
    }

    #[test]
    fn public_prefixes() {
        assert_eq!(public_prefix("NEXT_PUBLIC_X"), Some("NEXT_PUBLIC_"));
        assert_eq!(public_prefix("PUBLIC_WORKOS_API_KEY"), Some("PUBLIC_"));
        assert_eq!(public_prefix("EXPO_PUBLIC_KEY"), Some("EXPO_PUBLIC_"));
        assert_eq!(public_prefix("WORKOS_API_KEY"), None);
        assert_eq!(public_prefix("MY_VITE_KEY"), None);
    }
}

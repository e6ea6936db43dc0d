//! The app framework, from the dependencies in `package.json`. Pure: it reads the bytes it is
//! handed, so the checks and the planner can use it without touching the project on disk.

use serde::Deserialize;

/// The app framework, from the dependencies in `package.json`. It decides whether a cookie
/// password belongs in `.env.local` (server-rendered frameworks) and which variable names the
/// app reads its redirect URI from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framework {
    CreateReactApp,
    NextJs,
    Expo,
    SvelteKit,
    TanStackStart,
    Remix,
    ReactRouter,
    Vite,
}

impl Framework {
    /// Package names in the order they are tested: the first one present wins, so a Next.js
    /// app that also lists `vite` for tests is still Next.js. Every server framework comes
    /// before `vite`, which they all build with: `Vite` means a browser-only app.
    const MARKERS: [(&'static str, Framework); 9] = [
        ("react-scripts", Framework::CreateReactApp),
        ("next", Framework::NextJs),
        ("expo", Framework::Expo),
        ("@sveltejs/kit", Framework::SvelteKit),
        ("@tanstack/start", Framework::TanStackStart),
        ("@tanstack/react-start", Framework::TanStackStart),
        ("@remix-run/dev", Framework::Remix),
        ("@react-router/dev", Framework::ReactRouter),
        ("vite", Framework::Vite),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Framework::CreateReactApp => "Create React App",
            Framework::NextJs => "Next.js",
            Framework::Expo => "Expo",
            Framework::SvelteKit => "SvelteKit",
            Framework::TanStackStart => "TanStack Start",
            Framework::Remix => "Remix",
            Framework::ReactRouter => "React Router",
            Framework::Vite => "Vite",
        }
    }

    /// Apps that run only in the browser and call WorkOS from the page, so the page's origin
    /// must be an allowed CORS origin. Expo counts for its web build.
    pub fn is_browser_only(self) -> bool {
        matches!(
            self,
            Framework::Vite | Framework::CreateReactApp | Framework::Expo
        )
    }

    /// Frameworks whose AuthKit library keeps the session in an encrypted cookie.
    pub fn needs_cookie_password(self) -> bool {
        matches!(self, Framework::NextJs | Framework::TanStackStart)
    }

    pub fn detect(package_json: &[u8]) -> Result<Option<Framework>, serde_json::Error> {
        #[derive(Deserialize)]
        struct Manifest {
            #[serde(default)]
            dependencies: serde_json::Map<String, serde_json::Value>,
            #[serde(default, rename = "devDependencies")]
            dev_dependencies: serde_json::Map<String, serde_json::Value>,
        }
        let manifest: Manifest = serde_json::from_slice(package_json)?;
        let has = |name: &str| {
            manifest.dependencies.contains_key(name) || manifest.dev_dependencies.contains_key(name)
        };
        Ok(Framework::MARKERS
            .iter()
            .find(|(name, _)| has(name))
            .map(|(_, f)| *f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frameworks_are_detected_in_order() {
        let detect = |json: &str| Framework::detect(json.as_bytes()).unwrap();
        assert_eq!(
            detect(r#"{"dependencies":{"next":"15"}}"#),
            Some(Framework::NextJs)
        );
        assert_eq!(
            detect(r#"{"dependencies":{"vite":"6"},"devDependencies":{"next":"15"}}"#),
            Some(Framework::NextJs)
        );
        assert_eq!(
            detect(r#"{"dependencies":{"@tanstack/react-start":"1","vite":"6"}}"#),
            Some(Framework::TanStackStart)
        );
        assert_eq!(
            detect(r#"{"devDependencies":{"vite":"6"}}"#),
            Some(Framework::Vite)
        );
        assert_eq!(
            detect(r#"{"devDependencies":{"vite":"5","@remix-run/dev":"2"}}"#),
            Some(Framework::Remix)
        );
        assert_eq!(
            detect(r#"{"devDependencies":{"vite":"6","@react-router/dev":"7"}}"#),
            Some(Framework::ReactRouter)
        );
        assert_eq!(detect(r#"{"name":"x"}"#), None);
        assert!(Framework::detect(b"{").is_err());
    }
}

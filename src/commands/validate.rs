//! `validate`: the offline check of `convex.json`, its templates and what the checks can see
//! without WorkOS.

use std::path::Path;

use crate::checks;
use crate::cli::ValidateArgs;
use crate::desired;
use crate::project::Project;
use crate::render;
use crate::state::ResourceKind;
use crate::template::AuthVar;

use super::checks::{CheckOptions, app_env, stop_on_errors};
use super::observe::build_env;
use super::{Exit, Session, emit};

pub fn validate(session: &Session, dir: &Path, args: ValidateArgs) -> anyhow::Result<Exit> {
    let check_options = CheckOptions::new(session, &args.checks, args.strict, false);
    let project = Project::load(dir)?;
    let target = session.target()?;
    let Some(section) = project.auth_kit.as_ref().and_then(|a| a.section(target)) else {
        emit(&format!(
            "{} is valid; it has no authKit.{target} section.\n",
            project.config_path.display()
        ))?;
        return Ok(Exit::Ok);
    };
    project.env_local.check()?;

    // Credentials are not looked up offline: stand-ins let every other part of the templates
    // be resolved and checked.
    let auth = |var: AuthVar| Some(format!("placeholder_{}", var.env_name().to_lowercase()));
    let build_env = |name: &str| build_env(session, &project, name);
    let inputs = desired::Inputs {
        section,
        framework: project.framework,
        auth: &auth,
        build_env: &build_env,
        auth_pending: false,
    };
    let desired = desired::compile(&inputs)
        .map_err(|problems| anyhow::anyhow!("{}: {problems}", project.config_path.display()))?;

    // Offline: the checks see the declarations and .env.local, not WorkOS.
    let app_env = app_env(session, &project, target);
    let input = checks::Input {
        target,
        framework: project.framework,
        live_key: false,
        declared: &desired.declared,
        live: None,
        prune: false,
        app_env: &app_env,
    };
    let findings = check_options.settle(checks::run(&input));

    let count = |kind| desired.state.of_kind(kind).count();
    let verdict = if checks::failed(&findings).is_empty() {
        "is valid"
    } else {
        "compiles"
    };
    emit(&format!(
        "{} {verdict} for target {target}: {} redirect URIs, {} CORS origins, {} homepage URL, \
         {} .env.local variables.\n",
        project.config_path.display(),
        count(ResourceKind::RedirectUri),
        count(ResourceKind::CorsOrigin),
        count(ResourceKind::AppHomepageUrl),
        count(ResourceKind::EnvFileVar),
    ))?;
    emit(&render::findings::findings(&findings, session.style))?;
    stop_on_errors(&findings, "")?;
    Ok(Exit::Ok)
}

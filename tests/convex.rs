//! The Convex side: credentials found on the deployment, provisioning of a dev environment,
//! the deployment's WorkOS variables kept in line.

mod common;

use common::{Project, TestEmulator, fixed_answer_server, stderr, stdout};
use serde_json::json;

#[test]
fn the_embedded_emulator_runs_the_whole_flow_from_nothing() {
    let project = Project::fixture("nextjs");
    let state = project.path().join("emulator.json");
    let flag = format!("--emulator={}", state.display());

    let plan = project.command().args([&flag, "plan"]).output().unwrap();
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let text = stdout(&plan);
    assert!(text.contains("apply provisions an environment for deployment happy-otter-123"));
    assert!(
        text.contains(r#"+ provision   workos.environment["dev:happy-otter-123"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"convex.env_var["WORKOS_CLIENT_ID"]"#),
        "{text}"
    );
    assert!(text.contains("(known after apply)"), "{text}");
    assert!(
        !project.read(".env.local").contains("WORKOS"),
        "plan never writes"
    );

    let apply = project
        .command()
        .args([&flag, "apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}{}",
        stdout(&apply),
        stderr(&apply)
    );
    let text = stdout(&apply);
    assert!(text.contains("+ provisioned"), "{text}");
    assert!(text.contains("Apply complete!"), "{text}");

    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    let deployment = saved["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "happy-otter-123")
        .unwrap()
        .clone();
    let environment_id = deployment["workos_environment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let environment = saved["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == environment_id.as_str())
        .unwrap()
        .clone();
    let client_id = environment["client_id"].as_str().unwrap();
    let api_key = environment["api_keys"][0].as_str().unwrap();
    assert_eq!(deployment["env_vars"]["WORKOS_CLIENT_ID"], client_id);
    assert_eq!(deployment["env_vars"]["WORKOS_API_KEY"], api_key);
    assert_eq!(
        deployment["env_vars"]["WORKOS_ENVIRONMENT_ID"],
        environment_id.as_str()
    );
    assert_eq!(
        environment["redirect_uris"][0]["uri"],
        "http://localhost:3000/callback"
    );
    assert_eq!(environment["app_homepage_url"], "http://localhost:3000");
    let env_local = project.read(".env.local");
    assert!(
        env_local.contains(&format!("WORKOS_CLIENT_ID={client_id}\n")),
        "{env_local}"
    );
    assert!(env_local.contains(&format!("WORKOS_API_KEY={api_key}\n")));
    assert!(
        !text.contains(api_key),
        "the provisioned key is never printed"
    );

    let again = project
        .command()
        .args([&flag, "apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Apply complete! 0 created, 0 updated, 0 deleted, 1 set."),
        "{}",
        stdout(&again)
    );
}

#[test]
fn credentials_are_found_at_each_level_in_order() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    let key = emulator.api_key();
    let client = emulator.client_id();

    emulator.set_deployment_vars(&[("WORKOS_CLIENT_ID", &client), ("WORKOS_API_KEY", &key)]);
    let from_deployment = project
        .against_convex(&emulator)
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(
        from_deployment.status.code(),
        Some(0),
        "{}",
        stderr(&from_deployment)
    );
    assert!(
        stdout(&from_deployment)
            .contains("Using WORKOS_API_KEY from the Convex deployment happy-otter-123."),
        "{}",
        stdout(&from_deployment)
    );

    project.file(
        ".env.local",
        format!("WORKOS_API_KEY={key}\nWORKOS_CLIENT_ID={client}\n"),
    );
    let from_file = project
        .against_convex(&emulator)
        .arg("plan")
        .output()
        .unwrap();
    assert!(
        stdout(&from_file).contains(".env.local."),
        "{}",
        stdout(&from_file)
    );

    let from_env = project
        .against_convex(&emulator)
        .env("WORKOS_API_KEY", &key)
        .arg("plan")
        .output()
        .unwrap();
    let text = stdout(&from_env);
    assert!(
        text.contains("Using WORKOS_API_KEY from the process environment."),
        "{text}"
    );
    // The client id still comes from .env.local, and the plan says so.
    assert!(text.contains("Using WORKOS_CLIENT_ID from "), "{text}");
    assert!(text.contains(".env.local.\n"), "{text}");
}

#[test]
fn missing_deployment_variables_are_written_in_one_update() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    project.file(
        ".env.local",
        format!(
            "WORKOS_API_KEY={}\nWORKOS_CLIENT_ID={}\n",
            emulator.api_key(),
            emulator.client_id()
        ),
    );
    let plan = project
        .against_convex(&emulator)
        .arg("plan")
        .output()
        .unwrap();
    let text = stdout(&plan);
    assert!(
        text.contains(r#"+ create      convex.env_var["WORKOS_API_KEY"]"#),
        "{text}"
    );
    assert!(
        text.contains(r#"convex.env_var["WORKOS_CLIENT_ID"]"#),
        "{text}"
    );

    let apply = project
        .against_convex(&emulator)
        .args(["apply", "--auto-approve"])
        .output();
    let apply = apply.unwrap();
    assert_eq!(apply.status.code(), Some(0), "{}", stderr(&apply));
    let vars = emulator.deployment_vars();
    assert_eq!(vars["WORKOS_CLIENT_ID"], emulator.client_id().as_str());
    assert_eq!(vars["WORKOS_API_KEY"], emulator.api_key().as_str());
}

#[test]
fn a_client_id_that_differs_from_the_deployments_is_a_conflict() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    emulator.set_deployment_vars(&[("WORKOS_CLIENT_ID", "client_on_the_deployment")]);
    project.file(
        ".env.local",
        format!(
            "WORKOS_API_KEY={}\nWORKOS_CLIENT_ID=client_in_the_file\n",
            emulator.api_key()
        ),
    );
    let plan = project
        .against_convex(&emulator)
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1));
    let text = stderr(&plan);
    assert!(
        text.contains("conflict: WORKOS_CLIENT_ID is client_in_the_file in"),
        "{text}"
    );
    assert!(text.contains(".env.local"), "{text}");
    assert!(
        text.contains("client_on_the_deployment on the Convex deployment"),
        "{text}"
    );
    assert!(!text.contains(&emulator.api_key()), "{text}");
}

#[test]
fn a_remote_build_without_credentials_lists_where_it_looked() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vercel");
    let plan = project
        .against_convex(&emulator)
        .env("CONVEX_DEPLOY_KEY", "prod:brave-fox-456|emulator-admin-key")
        .env("CONVEX_URL", format!("{}/d/brave-fox-456", emulator.url()))
        .env("VERCEL_PROJECT_PRODUCTION_URL", "shop.example.com")
        .env("CI", "1")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(plan.status.code(), Some(1), "{}", stdout(&plan));
    let text = stderr(&plan);
    assert!(
        text.contains("WORKOS_API_KEY is needed but not found"),
        "{text}"
    );
    assert!(text.contains("the process environment"), "{text}");
    assert!(
        text.contains("the Convex deployment brave-fox-456"),
        "{text}"
    );
    assert!(text.contains("hosting provider"), "{text}");
}

fn failing_provisioning(status: u16) {
    let emulator = TestEmulator::with_config(authkit_sync::emulator::Config {
        fail_provisioning: Some(status),
        ..Default::default()
    });
    let project = Project::fixture("nextjs");
    let before = project.read(".env.local");

    let apply = project
        .against_convex(&emulator)
        .args(["apply", "--auto-approve"])
        .output();
    let apply = apply.unwrap();
    assert_eq!(apply.status.code(), Some(1), "{}", stdout(&apply));
    let text = stdout(&apply);
    assert!(
        text.contains("get_or_provision_workos_environment"),
        "{text}"
    );
    assert!(text.contains(&status.to_string()), "{text}");
    assert!(text.contains("not applied"), "{text}");
    assert_eq!(
        project.read(".env.local"),
        before,
        "nothing written locally"
    );
    assert_eq!(emulator.deployment_vars(), json!({}));
    assert_eq!(
        emulator.environments().len(),
        1,
        "no environment was created"
    );
}

#[test]
fn a_provisioning_failure_leaves_everything_as_it_was() {
    failing_provisioning(500);
    failing_provisioning(400);
}

#[test]
fn bad_convex_input_is_named() {
    let project = Project::fixture("nextjs");

    let output = project
        .command()
        .env("CONVEX_DEPLOY_KEY", "not-a-deploy-key")
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("CONVEX_DEPLOY_KEY is malformed"),
        "{}",
        stderr(&output)
    );

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let output = project
        .command()
        .env("CONVEX_DEPLOY_KEY", "dev:happy-otter-123|k")
        .env("CONVEX_URL", format!("http://127.0.0.1:{closed}"))
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("could not connect"),
        "{}",
        stderr(&output)
    );

    let html = fixed_answer_server(200, "<html>not json</html>");
    let output = project
        .command()
        .env("CONVEX_DEPLOY_KEY", "dev:happy-otter-123|k")
        .env("CONVEX_URL", &html)
        .arg("plan")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("/api/query with an unexpected body"),
        "{}",
        stderr(&output)
    );

    let partial = fixed_answer_server(200, r#"{"hasAssociatedWorkosTeam": true, "teamId": 1}"#);
    let output = project
        .command()
        .env("CONVEX_DEPLOYMENT", "dev:happy-otter-123")
        .env("CONVEX_OVERRIDE_ACCESS_TOKEN", "token")
        .env("CONVEX_PROVISION_HOST", &partial)
        .args(["apply", "--auto-approve"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("get_or_provision_workos_environment with an unexpected body"),
        "{}",
        stdout(&output)
    );
    assert!(!project.read(".env.local").contains("WORKOS"));
}

#[test]
fn a_saved_plan_is_stale_when_the_deployment_changed() {
    let emulator = TestEmulator::start();
    let project = Project::fixture("vite-react");
    project.file(
        ".env.local",
        format!(
            "WORKOS_API_KEY={}\nWORKOS_CLIENT_ID={}\n",
            emulator.api_key(),
            emulator.client_id()
        ),
    );
    let path = project.path().join("p.json");
    let plan = project
        .against_convex(&emulator)
        .args(["plan", "--out"])
        .arg(&path)
        .output();
    assert_eq!(plan.unwrap().status.code(), Some(0));
    emulator.set_deployment_vars(&[("WORKOS_ENVIRONMENT_ID", "environment_elsewhere")]);

    let apply = project
        .against_convex(&emulator)
        .arg("apply")
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(apply.status.code(), Some(1));
    assert!(
        stderr(&apply).contains("deployment variable WORKOS_ENVIRONMENT_ID was set since the plan"),
        "{}",
        stderr(&apply)
    );
}

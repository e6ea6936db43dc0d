//! Tests of the emulator's Convex endpoints as a client sees them: real HTTP over loopback to
//! the management API (`/api/...`) and to a deployment's API (`/d/<name>/...`), and the link
//! between a provisioned environment and the WorkOS endpoints.

use std::path::Path;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Config, Emulator};

const HAS_TEAM: &str = "/api/workos/has_associated_workos_team";
const PROVISION: &str = "/api/workos/get_or_provision_workos_environment";
const QUERY: &str = "/api/query";
const UPDATE: &str = "/api/update_environment_variables";
const LIST_VARS: &str = "_system/cli/queryEnvironmentVariables";
const GET_VAR: &str = "_system/cli/queryEnvironmentVariables:get";

/// An answer: status, headers and JSON body (`null` when the body is not JSON).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or_default()
    }
}

struct Harness {
    emulator: Emulator,
    http: reqwest::Client,
}

impl Harness {
    async fn start() -> Self {
        Self::with_config(Config::default()).await
    }

    async fn with_config(config: Config) -> Self {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client builds");
        Self { emulator, http }
    }

    /// Sends `body` (raw text, so malformed bodies can be sent too) with an optional
    /// `Authorization` header value.
    async fn send(
        &self,
        method: Method,
        path: &str,
        authorization: Option<String>,
        body: Option<String>,
    ) -> Answer {
        let url = format!("{}{path}", self.emulator.url());
        let mut request = self.http.request(method, url);
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/json")
                .body(body);
        }
        let response = request.send().await.expect("request is answered");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body is read");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A management API call with `Authorization: Bearer <token>`.
    async fn manage(&self, token: Option<&str>, path: &str, body: Value) -> Answer {
        let authorization = token.map(|token| format!("Bearer {token}"));
        self.send(Method::POST, path, authorization, Some(body.to_string()))
            .await
    }

    async fn health(&self, token: Option<&str>, deployment: &str) -> Answer {
        let path = format!("/api/deployments/{deployment}/workos_environment_health");
        let authorization = token.map(|token| format!("Bearer {token}"));
        self.send(Method::GET, &path, authorization, None).await
    }

    async fn provision(&self, deployment: &str, environment_type: &str) -> Answer {
        let body = json!({"deploymentName": deployment, "environmentType": environment_type});
        self.manage(Some(self.emulator.access_token()), PROVISION, body)
            .await
    }

    /// A deployment API call with `Authorization: Convex <key>`.
    async fn call(
        &self,
        deployment: &str,
        key: Option<&str>,
        endpoint: &str,
        body: Value,
    ) -> Answer {
        let path = format!("/d/{deployment}{endpoint}");
        let authorization = key.map(|key| format!("Convex {key}"));
        self.send(Method::POST, &path, authorization, Some(body.to_string()))
            .await
    }

    /// Runs a query on the dev deployment with its admin key.
    async fn query(&self, function: &str, args: Value) -> Answer {
        let body = json!({"path": function, "args": args, "format": "json"});
        let (name, key) = (self.emulator.deployment_name(), self.emulator.admin_key());
        self.call(name, Some(key), QUERY, body).await
    }

    /// Applies `changes` to the dev deployment's variables with its admin key.
    async fn update(&self, changes: Value) -> Answer {
        let (name, key) = (self.emulator.deployment_name(), self.emulator.admin_key());
        self.call(name, Some(key), UPDATE, json!({"changes": changes}))
            .await
    }

    /// A WorkOS call with `key`.
    async fn workos(&self, key: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let body = body.map(|body| body.to_string());
        self.send(method, path, Some(format!("Bearer {key}")), body)
            .await
    }

    async fn state(&self) -> Value {
        self.send(Method::GET, "/_emulator/state", None, None)
            .await
            .body
    }
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a str> {
    answer
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// A version-1 state file as written before the Convex fields existed, with `extra` merged in
/// at the top level.
fn write_state(path: &Path, extra: Value) {
    let mut state = json!({
        "version": 1,
        "environments": [{
            "id": "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E8",
            "name": "Sandbox",
            "client_id": "client_01KBJ7Q5X0M1A4Z7D1V3C9W2E8",
            "api_keys": ["sk_test_from_file"],
            "redirect_uris": [],
            "cors_origins": [],
            "app_homepage_url": "http://localhost:3000"
        }]
    });
    if let (Some(object), Value::Object(extra)) = (state.as_object_mut(), extra) {
        object.extend(extra);
    }
    std::fs::write(path, state.to_string()).expect("state file written");
}

#[tokio::test]
async fn a_fresh_emulator_has_a_team_two_deployments_and_an_access_token() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;

    assert_eq!(emulator.deployment_name(), "happy-otter-123");
    assert_eq!(
        emulator.deployment_url(),
        format!("{}/d/happy-otter-123", emulator.url())
    );
    assert_eq!(
        emulator.admin_key(),
        "dev:happy-otter-123|emulator-admin-key"
    );
    assert_eq!(emulator.prod_deployment_name(), "brave-fox-456");
    assert_eq!(
        emulator.prod_admin_key(),
        "prod:brave-fox-456|emulator-admin-key"
    );
    assert_eq!(emulator.access_token(), "emulator-access-token");

    let state = harness.state().await;
    assert_eq!(state["version"], 1);
    assert_eq!(state["environments"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        state["environments"][0]["api_keys"],
        json!([emulator.api_key()])
    );
    assert_eq!(
        state["teams"],
        json!([{
            "id": 1,
            "name": "acme",
            "workos_team_id": "workos_team_00000000000000000000000001"
        }])
    );
    assert_eq!(
        state["deployments"],
        json!([
            {
                "name": "happy-otter-123",
                "kind": "dev",
                "admin_key": "dev:happy-otter-123|emulator-admin-key",
                "team_id": 1,
                "env_vars": {},
                "workos_environment_id": null
            },
            {
                "name": "brave-fox-456",
                "kind": "prod",
                "admin_key": "prod:brave-fox-456|emulator-admin-key",
                "team_id": 1,
                "env_vars": {},
                "workos_environment_id": null
            }
        ])
    );
    assert_eq!(state["access_tokens"], json!(["emulator-access-token"]));
}

#[tokio::test]
async fn the_management_api_says_whether_the_team_has_a_workos_team() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let expected = json!({"hasAssociatedWorkosTeam": true, "teamId": 1});

    // An access token may ask about any deployment; a deploy key about its own.
    for (token, deployment) in [
        (emulator.access_token(), emulator.deployment_name()),
        (emulator.access_token(), emulator.prod_deployment_name()),
        (emulator.admin_key(), emulator.deployment_name()),
        (emulator.prod_admin_key(), emulator.prod_deployment_name()),
    ] {
        let answer = harness
            .manage(Some(token), HAS_TEAM, json!({"deploymentName": deployment}))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{token} on {deployment}");
        assert_eq!(answer.body, expected);
        assert!(header(&answer, "x-request-id").is_some_and(|id| id.starts_with("req_")));
    }

    let answer = harness
        .manage(
            Some(emulator.access_token()),
            HAS_TEAM,
            json!({"deploymentName": "no-such-deployment"}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "DeploymentNotFound");
    assert!(answer.body["message"].is_string());

    for body in [
        json!({}),
        json!({"deploymentName": 7}),
        json!(["happy-otter-123"]),
    ] {
        let answer = harness
            .manage(Some(emulator.access_token()), HAS_TEAM, body.clone())
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "BadRequest", "{body}");
    }
    let answer = harness
        .send(
            Method::POST,
            HAS_TEAM,
            Some(format!("Bearer {}", emulator.access_token())),
            Some("{not json".to_owned()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "BadRequest");
}

#[tokio::test]
async fn the_management_api_refuses_unknown_tokens_and_other_deployments_keys() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let dev = json!({"deploymentName": emulator.deployment_name()});

    for token in [None, Some("wrong-token"), Some(emulator.api_key())] {
        let answer = harness.manage(token, HAS_TEAM, dev.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(answer.code(), "Unauthenticated");
        assert!(answer.body["message"].is_string());
    }
    // The wrong scheme is no token at all.
    let answer = harness
        .send(
            Method::POST,
            HAS_TEAM,
            Some(format!("Convex {}", emulator.access_token())),
            Some(dev.to_string()),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    // Authentication comes before reading the body.
    let answer = harness.manage(None, HAS_TEAM, json!({})).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // A deploy key acts on its own deployment only, and cannot tell others apart from unknown.
    for deployment in [emulator.deployment_name(), "no-such-deployment"] {
        let body = json!({"deploymentName": deployment, "environmentType": "production"});
        for path in [HAS_TEAM, PROVISION] {
            let answer = harness
                .manage(Some(emulator.prod_admin_key()), path, body.clone())
                .await;
            assert_eq!(
                answer.status,
                StatusCode::UNAUTHORIZED,
                "{path} {deployment}"
            );
            assert_eq!(answer.code(), "Unauthenticated");
        }
        let answer = harness
            .health(Some(emulator.prod_admin_key()), deployment)
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{deployment}");
    }
    let answer = harness.health(None, emulator.deployment_name()).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        harness.state().await["environments"]
            .as_array()
            .map(Vec::len)
            == Some(1)
    );
}

#[tokio::test]
async fn provisioning_creates_one_environment_per_deployment_and_then_returns_it() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let dev = emulator.deployment_name();

    let before = harness.health(Some(emulator.access_token()), dev).await;
    assert_eq!(before.status, StatusCode::NOT_FOUND);
    assert_eq!(before.code(), "WorkOSEnvironmentNotProvisioned");

    let first = harness.provision(dev, "nonproduction").await;
    assert_eq!(first.status, StatusCode::OK);
    let environment = first.body.clone();
    assert_eq!(environment["newlyProvisioned"], true);
    assert_eq!(environment["environmentName"], "happy-otter-123 dev");
    let id = environment["environmentId"].as_str().expect("id");
    assert!(id.starts_with("environment_"), "{id}");
    assert_ne!(id, emulator.environment_id());
    let client_id = environment["clientId"].as_str().expect("client id");
    assert!(client_id.starts_with("client_"), "{client_id}");
    let api_key = environment["apiKey"].as_str().expect("api key");
    assert!(api_key.starts_with("sk_test_"), "{api_key}");
    assert_ne!(api_key, emulator.api_key());

    // Later calls, even with a deploy key or another type, give the same environment.
    let again = harness.provision(dev, "nonproduction").await;
    let with_deploy_key = harness
        .manage(
            Some(emulator.admin_key()),
            PROVISION,
            json!({"deploymentName": dev, "environmentType": "production"}),
        )
        .await;
    for answer in [again, with_deploy_key] {
        assert_eq!(answer.status, StatusCode::OK);
        let mut expected = environment.clone();
        expected["newlyProvisioned"] = json!(false);
        assert_eq!(answer.body, expected);
    }

    let health = harness.health(Some(emulator.admin_key()), dev).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.body,
        json!({"id": id, "name": "happy-otter-123 dev", "clientId": client_id})
    );
    let state = harness.state().await;
    assert_eq!(state["deployments"][0]["workos_environment_id"], id);
    assert_eq!(state["deployments"][0]["env_vars"], json!({}));
    assert_eq!(state["environments"][1]["id"], id);
    assert_eq!(state["environments"][1]["api_keys"], json!([api_key]));
    // The default environment is untouched and stays the default.
    assert_eq!(state["environments"][0]["id"], emulator.environment_id());

    // A production environment gets a live key; the prod deployment is still unprovisioned
    // until asked.
    let prod = emulator.prod_deployment_name();
    let not_yet = harness.health(Some(emulator.access_token()), prod).await;
    assert_eq!(not_yet.code(), "WorkOSEnvironmentNotProvisioned");
    let live = harness.provision(prod, "production").await;
    assert_eq!(live.status, StatusCode::OK);
    assert_eq!(live.body["environmentName"], "brave-fox-456 prod");
    assert!(
        live.body["apiKey"]
            .as_str()
            .is_some_and(|key| key.starts_with("sk_live_"))
    );
    assert_ne!(live.body["environmentId"], environment["environmentId"]);
}

#[tokio::test]
async fn provisioning_validates_its_request() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let token = Some(emulator.access_token());

    for body in [
        json!({"deploymentName": emulator.deployment_name()}),
        json!({"deploymentName": emulator.deployment_name(), "environmentType": "staging"}),
        json!({"deploymentName": emulator.deployment_name(), "environmentType": true}),
        json!({"environmentType": "nonproduction"}),
    ] {
        let answer = harness.manage(token, PROVISION, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "BadRequest", "{body}");
    }
    let answer = harness
        .provision("no-such-deployment", "nonproduction")
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "DeploymentNotFound");
    let answer = harness.health(token, "no-such-deployment").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "DeploymentNotFound");

    assert_eq!(
        harness.state().await["environments"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn a_provisioned_key_works_on_the_workos_endpoints_with_its_own_settings() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let provisioned = harness
        .provision(emulator.deployment_name(), "nonproduction")
        .await;
    let key = provisioned.body["apiKey"].as_str().expect("api key");
    let path = "/user_management/redirect_uris";

    let list = harness.workos(key, Method::GET, path, None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["data"], json!([]));
    assert_eq!(header(&list, "x-ratelimit-remaining"), Some("5999"));

    let uri = json!({"uri": "http://localhost:5173/callback"});
    let created = harness.workos(key, Method::POST, path, Some(uri)).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["default"], true);
    let default_uri = json!({"uri": "http://localhost:3000/callback"});
    let created_in_default = harness
        .workos(emulator.api_key(), Method::POST, path, Some(default_uri))
        .await;
    assert_eq!(created_in_default.status, StatusCode::CREATED);

    // Each environment lists only its own redirect URIs.
    let own = harness.workos(key, Method::GET, path, None).await;
    assert_eq!(own.body["data"], json!([created.body]));
    let default = harness
        .workos(emulator.api_key(), Method::GET, path, None)
        .await;
    assert_eq!(default.body["data"], json!([created_in_default.body]));
    let state = harness.state().await;
    assert_eq!(
        state["environments"][1]["redirect_uris"][0]["uri"],
        "http://localhost:5173/callback"
    );
}

#[tokio::test]
async fn provisioning_needs_a_workos_team() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("state.json");
    write_state(
        &file,
        json!({"teams": [{"id": 1, "name": "acme"}, {"id": 2, "name": "initech",
            "workos_team_id": "workos_team_01KBJ7Q5X0M1A4Z7D1V3C9W2E8"}]}),
    );
    let harness = Harness::with_config(Config {
        state_file: Some(file),
        ..Config::default()
    })
    .await;
    let dev = harness.emulator.deployment_name();

    let answer = harness
        .manage(
            Some(harness.emulator.access_token()),
            HAS_TEAM,
            json!({"deploymentName": dev}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body,
        json!({"hasAssociatedWorkosTeam": false, "teamId": 1})
    );

    let answer = harness.provision(dev, "nonproduction").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.code(), "WorkosTeamNotAssociated");
    assert!(
        answer.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("acme"))
    );
    let state = harness.state().await;
    assert_eq!(state["environments"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        state["deployments"][0]["workos_environment_id"],
        Value::Null
    );
}

#[tokio::test]
async fn fail_provisioning_answers_the_configured_status_and_provisions_nothing() {
    for (status, code) in [
        (500, "InternalServerError"),
        (503, "InternalServerError"),
        (400, "BadRequest"),
    ] {
        let harness = Harness::with_config(Config {
            fail_provisioning: Some(status),
            ..Config::default()
        })
        .await;
        let dev = harness.emulator.deployment_name();

        let answer = harness.provision(dev, "nonproduction").await;
        assert_eq!(answer.status.as_u16(), status);
        assert_eq!(answer.code(), code);
        assert!(answer.body["message"].is_string());
        assert!(header(&answer, "x-request-id").is_some());

        // Authentication and validation still come first, and nothing else is affected.
        let answer = harness
            .manage(None, PROVISION, json!({"deploymentName": dev}))
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        let answer = harness
            .provision("no-such-deployment", "nonproduction")
            .await;
        assert_eq!(answer.code(), "DeploymentNotFound");
        let answer = harness
            .manage(
                Some(harness.emulator.access_token()),
                HAS_TEAM,
                json!({"deploymentName": dev}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        let health = harness
            .health(Some(harness.emulator.access_token()), dev)
            .await;
        assert_eq!(health.code(), "WorkOSEnvironmentNotProvisioned");
        assert_eq!(
            harness.state().await["environments"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
    }
}

#[tokio::test]
async fn environment_variables_can_be_set_listed_read_and_deleted() {
    let harness = Harness::start().await;

    let empty = harness.query(LIST_VARS, json!({})).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["status"], "success");
    assert_eq!(empty.body["value"], json!([]));
    let missing = harness
        .query(GET_VAR, json!({"name": "WORKOS_CLIENT_ID"}))
        .await;
    assert_eq!(missing.body["status"], "success");
    assert_eq!(missing.body["value"], Value::Null);

    let set = harness
        .update(json!([
            {"name": "WORKOS_CLIENT_ID", "value": "client_123"},
            {"name": "WORKOS_API_KEY", "value": "sk_test_abc"},
            {"name": "_EMPTY", "value": ""},
            {"name": "a_lower", "value": "x=y z"},
        ]))
        .await;
    assert!(header(&set, "x-request-id").is_some());
    assert_eq!((set.status, set.body), (StatusCode::OK, json!({})));

    let list = harness.query(LIST_VARS, json!({})).await;
    assert_eq!(
        list.body["value"],
        json!([
            {"name": "WORKOS_API_KEY", "value": "sk_test_abc"},
            {"name": "WORKOS_CLIENT_ID", "value": "client_123"},
            {"name": "_EMPTY", "value": ""},
            {"name": "a_lower", "value": "x=y z"},
        ])
    );
    let one = harness
        .query(GET_VAR, json!({"name": "WORKOS_CLIENT_ID"}))
        .await;
    assert_eq!(
        one.body["value"],
        json!({"name": "WORKOS_CLIENT_ID", "value": "client_123"})
    );

    // A missing or null value deletes; deleting an unknown name is no error; later entries win.
    let changed = harness
        .update(json!([
            {"name": "WORKOS_API_KEY"},
            {"name": "_EMPTY", "value": null},
            {"name": "NEVER_SET"},
            {"name": "WORKOS_CLIENT_ID", "value": "client_old"},
            {"name": "WORKOS_CLIENT_ID", "value": "client_456"},
        ]))
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    let list = harness.query(LIST_VARS, json!({})).await;
    assert_eq!(
        list.body["value"],
        json!([
            {"name": "WORKOS_CLIENT_ID", "value": "client_456"},
            {"name": "a_lower", "value": "x=y z"},
        ])
    );
    let gone = harness
        .query(GET_VAR, json!({"name": "WORKOS_API_KEY"}))
        .await;
    assert_eq!(gone.body["value"], Value::Null);

    // The prod deployment has its own variables.
    let prod = harness
        .call(
            harness.emulator.prod_deployment_name(),
            Some(harness.emulator.prod_admin_key()),
            QUERY,
            json!({"path": LIST_VARS, "args": {}, "format": "json"}),
        )
        .await;
    assert_eq!(prod.body["value"], json!([]));
    let state = harness.state().await;
    assert_eq!(
        state["deployments"][0]["env_vars"],
        json!({"WORKOS_CLIENT_ID": "client_456", "a_lower": "x=y z"})
    );
}

#[tokio::test]
async fn queries_answer_function_failures_in_the_body_and_bad_requests_with_400() {
    let harness = Harness::start().await;

    for (function, args) in [
        ("_system/cli/queryEnvironmentVariables:set", json!({})),
        ("_system/cli/other", json!({})),
        ("messages:list", json!({})),
    ] {
        let answer = harness.query(function, args).await;
        assert_eq!(answer.status, StatusCode::OK, "{function}");
        assert_eq!(answer.body["status"], "error", "{function}");
        assert_eq!(
            answer.body["errorMessage"],
            format!("Could not find function for '{function}'")
        );
    }
    for (function, args) in [
        (GET_VAR, json!({})),
        (GET_VAR, json!({"name": 3})),
        (GET_VAR, json!({"name": "A", "other": 1})),
        (LIST_VARS, json!({"name": "A"})),
    ] {
        let answer = harness.query(function, args.clone()).await;
        assert_eq!(answer.status, StatusCode::OK, "{function} {args}");
        assert_eq!(answer.body["status"], "error");
        assert!(
            answer.body["errorMessage"]
                .as_str()
                .is_some_and(|message| message.starts_with("ArgumentValidationError")),
            "{}",
            answer.body
        );
    }
    // The default export can be named.
    let named = harness
        .query("_system/cli/queryEnvironmentVariables:default", json!({}))
        .await;
    assert_eq!(named.body["status"], "success");

    let (name, key) = (
        harness.emulator.deployment_name(),
        harness.emulator.admin_key(),
    );
    for body in [
        json!({"args": {}, "format": "json"}),
        json!({"path": 1, "args": {}}),
        json!({"path": LIST_VARS}),
        json!({"path": LIST_VARS, "args": []}),
        json!({"path": LIST_VARS, "args": {}, "format": "convex_encoded_json"}),
        json!([LIST_VARS]),
    ] {
        let answer = harness.call(name, Some(key), QUERY, body.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer.code(), "BadRequest", "{body}");
    }
    let garbage = harness
        .send(
            Method::POST,
            &format!("/d/{name}{QUERY}"),
            Some(format!("Convex {key}")),
            Some("path=x".to_owned()),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    assert_eq!(garbage.code(), "BadRequest");
    // Without `format` the answer is the same JSON.
    let bare = harness
        .call(
            name,
            Some(key),
            QUERY,
            json!({"path": LIST_VARS, "args": {}}),
        )
        .await;
    assert_eq!(bare.body["value"], json!([]));
}

#[tokio::test]
async fn an_update_with_any_bad_change_changes_nothing() {
    let harness = Harness::start().await;
    let kept = harness
        .update(json!([{"name": "KEEP", "value": "1"}]))
        .await;
    assert_eq!(kept.status, StatusCode::OK);

    for name in ["1ABC", "WITH-DASH", "", "SPACE X", "DOT.TED"] {
        let answer = harness
            .update(json!([
                {"name": "NEW", "value": "x"},
                {"name": "KEEP"},
                {"name": name, "value": "y"},
            ]))
            .await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{name:?}");
        assert_eq!(answer.code(), "InvalidEnvironmentVariableName", "{name:?}");
        assert!(answer.body["message"].is_string());
    }
    for changes in [
        json!({"name": "NEW", "value": "x"}),
        json!(["NEW"]),
        json!([{"value": "x"}]),
        json!([{"name": 1, "value": "x"}]),
        json!([{"name": "NEW", "value": 1}]),
        json!([{"name": "NEW", "value": {"nested": true}}]),
    ] {
        let answer = harness.update(changes.clone()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{changes}");
        assert_eq!(answer.code(), "BadRequest", "{changes}");
    }
    let no_changes = harness
        .call(
            harness.emulator.deployment_name(),
            Some(harness.emulator.admin_key()),
            UPDATE,
            json!({}),
        )
        .await;
    assert_eq!(no_changes.code(), "BadRequest");

    let list = harness.query(LIST_VARS, json!({})).await;
    assert_eq!(list.body["value"], json!([{"name": "KEEP", "value": "1"}]));
    let empty = harness.update(json!([])).await;
    assert_eq!((empty.status, empty.body), (StatusCode::OK, json!({})));
}

#[tokio::test]
async fn an_admin_key_opens_only_its_own_deployment() {
    let harness = Harness::start().await;
    let emulator = &harness.emulator;
    let dev = emulator.deployment_name();
    let list = json!({"path": LIST_VARS, "args": {}, "format": "json"});
    let update = json!({"changes": [{"name": "X", "value": "1"}]});

    for key in [
        None,
        Some(emulator.prod_admin_key()),
        Some(emulator.access_token()),
        Some("dev:happy-otter-123|wrong"),
    ] {
        let read = harness.call(dev, key, QUERY, list.clone()).await;
        assert_eq!(read.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(read.code(), "BadAdminKey");
        assert!(read.body["message"].is_string());
        let write = harness.call(dev, key, UPDATE, update.clone()).await;
        assert_eq!(write.status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(write.code(), "BadAdminKey");
    }
    // The right key under another scheme is refused too.
    let bearer = harness
        .send(
            Method::POST,
            &format!("/d/{dev}{QUERY}"),
            Some(format!("Bearer {}", emulator.admin_key())),
            Some(list.to_string()),
        )
        .await;
    assert_eq!(bearer.code(), "BadAdminKey");
    // The key is checked before the body.
    let unread = harness
        .call(dev, Some(emulator.prod_admin_key()), QUERY, json!("junk"))
        .await;
    assert_eq!(unread.code(), "BadAdminKey");

    // An unknown deployment is not found, whatever the key.
    for key in [None, Some(emulator.admin_key())] {
        let answer = harness
            .call("no-such-deployment", key, QUERY, list.clone())
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
        assert_eq!(answer.code(), "DeploymentNotFound");
    }

    let prod = harness
        .call(
            emulator.prod_deployment_name(),
            Some(emulator.prod_admin_key()),
            UPDATE,
            update,
        )
        .await;
    assert_eq!(prod.status, StatusCode::OK);
    let state = harness.state().await;
    assert_eq!(state["deployments"][0]["env_vars"], json!({}));
    assert_eq!(state["deployments"][1]["env_vars"], json!({"X": "1"}));
}

#[tokio::test]
async fn convex_routes_pass_the_workos_gate_untouched() {
    let harness = Harness::with_config(Config {
        rate_limit: Some(1),
        ..Config::default()
    })
    .await;
    let emulator = &harness.emulator;

    // Convex requests are not counted against, nor refused by, the WorkOS limit, and do not
    // carry its headers.
    for _ in 0..3 {
        let answer = harness.query(LIST_VARS, json!({})).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert!(header(&answer, "x-request-id").is_some());
        assert_eq!(header(&answer, "x-ratelimit-limit"), None);
        let answer = harness
            .manage(
                Some(emulator.access_token()),
                HAS_TEAM,
                json!({"deploymentName": emulator.deployment_name()}),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(header(&answer, "x-ratelimit-remaining"), None);
    }
    let path = "/user_management/cors_origins";
    let first = harness
        .workos(emulator.api_key(), Method::GET, path, None)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let second = harness
        .workos(emulator.api_key(), Method::GET, path, None)
        .await;
    assert_eq!(second.status, StatusCode::TOO_MANY_REQUESTS);

    // Unknown Convex paths and wrong methods get Convex's shape, without any key.
    for path in [
        "/api/nothing",
        "/d/happy-otter-123/api/nothing",
        "/d/no-such/x",
    ] {
        let answer = harness.send(Method::GET, path, None, None).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.code(), "NotFound", "{path}");
        assert!(header(&answer, "x-request-id").is_some());
    }
    let answer = harness.send(Method::GET, HAS_TEAM, None, None).await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "MethodNotAllowed");
    assert!(header(&answer, "allow").is_some_and(|allow| allow.contains("POST")));
    let path = format!("/d/{}{QUERY}", emulator.deployment_name());
    let answer = harness.send(Method::PUT, &path, None, None).await;
    assert_eq!(answer.code(), "MethodNotAllowed");
}

#[tokio::test]
async fn convex_state_is_saved_and_loaded_by_the_next_emulator() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("state.json");
    let config = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };

    let first = Harness::with_config(config.clone()).await;
    let provisioned = first
        .provision(first.emulator.deployment_name(), "nonproduction")
        .await
        .body;
    let set = first
        .update(json!([{"name": "WORKOS_CLIENT_ID", "value": provisioned["clientId"]}]))
        .await;
    assert_eq!(set.status, StatusCode::OK);
    // Saved before the answer.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("file")).expect("JSON");
    assert_eq!(saved, first.state().await);
    assert_eq!(
        saved["deployments"][0]["env_vars"]["WORKOS_CLIENT_ID"],
        provisioned["clientId"]
    );
    first.emulator.shutdown().await.expect("clean shutdown");

    let second = Harness::with_config(config).await;
    let again = second
        .provision(second.emulator.deployment_name(), "nonproduction")
        .await;
    let mut expected = provisioned.clone();
    expected["newlyProvisioned"] = json!(false);
    assert_eq!(again.body, expected);
    let read = second
        .query(GET_VAR, json!({"name": "WORKOS_CLIENT_ID"}))
        .await;
    assert_eq!(read.body["value"]["value"], provisioned["clientId"]);
    let key = provisioned["apiKey"].as_str().expect("key");
    let list = second
        .workos(key, Method::GET, "/user_management/cors_origins", None)
        .await;
    assert_eq!(list.status, StatusCode::OK);
}

#[tokio::test]
async fn a_state_file_from_before_the_convex_fields_still_loads() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("old.json");
    write_state(&file, json!({}));

    let harness = Harness::with_config(Config {
        state_file: Some(file.clone()),
        ..Config::default()
    })
    .await;
    assert_eq!(harness.emulator.api_key(), "sk_test_from_file");
    assert_eq!(harness.emulator.deployment_name(), "happy-otter-123");
    assert_eq!(harness.emulator.access_token(), "emulator-access-token");
    let state = harness.state().await;
    assert_eq!(
        state["environments"][0]["app_homepage_url"],
        "http://localhost:3000"
    );
    assert_eq!(state["deployments"].as_array().map(Vec::len), Some(2));
    // The file is brought up to date at once.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("file")).expect("JSON");
    assert_eq!(saved, state);

    let answer = harness
        .provision(harness.emulator.deployment_name(), "nonproduction")
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn a_state_file_can_name_its_own_deployments_and_tokens() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("state.json");
    write_state(
        &file,
        json!({
            "teams": [{"id": 9, "name": "initech", "workos_team_id": null}],
            "deployments": [
                {"name": "preview-one", "kind": "preview", "admin_key": "preview:k1", "team_id": 9},
                {"name": "calm-cat-1", "kind": "prod", "admin_key": "prod:k2", "team_id": 9},
                {"name": "quick-ox-2", "kind": "dev", "admin_key": "dev:k3", "team_id": 9,
                 "env_vars": {"B": "2", "A": "1"},
                 "workos_environment_id": "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E8"}
            ],
            "access_tokens": ["token-one", "token-two"]
        }),
    );
    let harness = Harness::with_config(Config {
        state_file: Some(file.clone()),
        ..Config::default()
    })
    .await;
    let emulator = &harness.emulator;
    assert_eq!(emulator.deployment_name(), "quick-ox-2");
    assert_eq!(emulator.admin_key(), "dev:k3");
    assert_eq!(emulator.prod_deployment_name(), "calm-cat-1");
    assert_eq!(emulator.prod_admin_key(), "prod:k2");
    assert_eq!(emulator.access_token(), "token-one");

    let list = harness.query(LIST_VARS, json!({})).await;
    assert_eq!(
        list.body["value"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    // A deployment may be linked to an existing environment, the default one included.
    let health = harness.health(Some("token-two"), "quick-ox-2").await;
    assert_eq!(health.body["id"], "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E8");
    let preview = harness
        .manage(
            Some("preview:k1"),
            PROVISION,
            json!({"deploymentName": "preview-one", "environmentType": "nonproduction"}),
        )
        .await;
    assert_eq!(preview.code(), "WorkosTeamNotAssociated");
    drop(harness);

    // A document breaking a rule is refused with the path of the problem.
    write_state(
        &file,
        json!({"deployments": [{"name": "only-dev", "kind": "dev", "admin_key": "k",
            "team_id": 1}]}),
    );
    let error = Emulator::start(Config {
        state_file: Some(file.clone()),
        ..Config::default()
    })
    .await
    .expect_err("no prod deployment");
    let error = format!("{error:#}");
    assert!(error.contains("'prod' deployment"), "{error}");
}

#[tokio::test]
async fn a_reset_restores_the_fresh_convex_state() {
    let harness = Harness::start().await;
    let fresh = harness.state().await;
    harness
        .provision(harness.emulator.deployment_name(), "nonproduction")
        .await;
    harness.update(json!([{"name": "A", "value": "1"}])).await;
    assert_ne!(harness.state().await, fresh);

    let reset = harness
        .send(Method::POST, "/_emulator/reset", None, None)
        .await;
    assert_eq!((reset.status, reset.body), (StatusCode::OK, fresh));
    let health = harness
        .health(
            Some(harness.emulator.access_token()),
            harness.emulator.deployment_name(),
        )
        .await;
    assert_eq!(health.code(), "WorkOSEnvironmentNotProvisioned");
}

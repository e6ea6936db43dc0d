//! Conformance: the project's emulator and WorkOS's official one (`workos emulate` from the npm
//! package `workos` 0.14.0) get the same scripted requests, and their answers are compared by
//! status, error `code` and shape: the keys of each object and the JSON type of each value,
//! never ids, timestamps or messages.
//!
//! `agree` says the two answer alike. `differ` pins both answers where they do not; each such
//! difference is a row of docs/emulator-fidelity.md, which says what real WorkOS is documented
//! to do and why the project's emulator answers as it does. An endpoint the official emulator
//! lacks is one of those differences, and its 404 is asserted like any other answer.
//!
//! The official emulator is shared by the tests of this binary (see `common::official`), so
//! every test creates values of its own: a port number in the URLs that no other test uses.

mod common;

use std::collections::BTreeMap;
use std::fmt;

use authkit_sync::emulator::{self, Emulator};
use common::official::OfficialEmulator;
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};

const REDIRECT_URIS: &str = "/user_management/redirect_uris";
const CORS_ORIGINS: &str = "/user_management/cors_origins";
const HOMEPAGE: &str = "/user_management/app_homepage_url";
const JWT_TEMPLATE: &str = "/user_management/jwt_template";

const NOT_FOUND: (u16, Option<&str>) = (404, Some("not_found"));

/// The two emulators side by side and one client for both.
struct Servers {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
    official: &'static OfficialEmulator,
    project: Option<Emulator>,
}

impl Servers {
    /// The shared official emulator and a fresh project emulator.
    fn start() -> Servers {
        Servers::with_config(emulator::Config::default())
    }

    /// The project's emulator in legacy mode (no list endpoints, no homepage setter), which is
    /// meant to answer exactly as the official emulator does where that one lacks endpoints.
    fn legacy() -> Servers {
        Servers::with_config(emulator::Config {
            legacy: true,
            ..emulator::Config::default()
        })
    }

    fn with_config(config: emulator::Config) -> Servers {
        let official = OfficialEmulator::shared();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let project = runtime
            .block_on(Emulator::start(config))
            .expect("the project's emulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        Servers {
            runtime,
            http,
            official,
            project: Some(project),
        }
    }

    fn project(&self) -> &Emulator {
        self.project.as_ref().expect("running")
    }

    /// Sends `call` to both emulators, the official one first.
    fn send(&self, call: &Call) -> Pair {
        self.send_each(call, call)
    }

    /// Sends `official` to the official emulator and `project` to the project's, for scripts
    /// whose paths name ids that each emulator chose.
    fn send_each(&self, official: &Call, project: &Call) -> Pair {
        Pair {
            call: official.to_string(),
            official: self.to_official(official),
            project: self.to_project(project),
        }
    }

    fn to_official(&self, call: &Call) -> Answer {
        self.send_to(self.official.url(), self.official.api_key(), call)
    }

    fn to_project(&self, call: &Call) -> Answer {
        self.send_to(self.project().url(), self.project().api_key(), call)
    }

    fn send_to(&self, base: &str, own_key: &str, call: &Call) -> Answer {
        let mut request = self
            .http
            .request(call.method.clone(), format!("{base}{}", call.path));
        request = match call.key {
            Key::Own => request.bearer_auth(own_key),
            Key::Unknown => request.bearer_auth("sk_test_conformance_unknown_key"),
            Key::Empty => request.header("Authorization", "Bearer "),
            Key::Basic => request.header("Authorization", format!("Basic {own_key}")),
            Key::Missing => request,
        };
        for (name, value) in &call.headers {
            request = request.header(*name, *value);
        }
        request = match &call.body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Raw(text) => request.header(CONTENT_TYPE, "application/json").body(*text),
        };

        self.runtime.block_on(async {
            let response = request
                .send()
                .await
                .unwrap_or_else(|error| panic!("{base}: {call}: no answer: {error}"));
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.expect("a readable body");
            let body = if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)
                    .unwrap_or_else(|_| panic!("{base}: {call}: a body that is not JSON: {text}"))
            };
            Answer {
                status,
                headers,
                body,
            }
        })
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        if let Some(project) = self.project.take() {
            let _ = self.runtime.block_on(project.shutdown());
        }
    }
}

/// One scripted request, sent alike to both emulators.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    path: String,
    key: Key,
    body: Body,
    headers: Vec<(&'static str, &'static str)>,
}

/// Which credentials a call carries; `Own` is the key of the emulator it is sent to.
#[derive(Debug, Clone, Copy)]
enum Key {
    Own,
    Unknown,
    Empty,
    Basic,
    Missing,
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Raw(&'static str),
}

fn call(method: Method, path: &str) -> Call {
    Call {
        method,
        path: path.to_owned(),
        key: Key::Own,
        body: Body::None,
        headers: Vec::new(),
    }
}

fn get(path: &str) -> Call {
    call(Method::GET, path)
}

fn delete(path: &str) -> Call {
    call(Method::DELETE, path)
}

fn post(path: &str, body: Value) -> Call {
    call(Method::POST, path).json(body)
}

fn put(path: &str, body: Value) -> Call {
    call(Method::PUT, path).json(body)
}

impl Call {
    fn key(mut self, key: Key) -> Call {
        self.key = key;
        self
    }

    fn json(mut self, body: Value) -> Call {
        self.body = Body::Json(body);
        self
    }

    fn raw(mut self, text: &'static str) -> Call {
        self.body = Body::Raw(text);
        self
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Call {
        self.headers.push((name, value));
        self
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({:?} key)", self.method, self.path, self.key)?;
        match &self.body {
            Body::None => Ok(()),
            Body::Json(value) => write!(f, " {value}"),
            Body::Raw(text) => write!(f, " {text:?}"),
        }
    }
}

/// What one emulator answered.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Answer {
    fn code(&self) -> Option<&str> {
        self.body["code"].as_str()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body)
    }
}

/// The two answers to one call.
struct Pair {
    call: String,
    official: Answer,
    project: Answer,
}

impl fmt::Display for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}\n  official emulator: {}\n  project emulator:  {}",
            self.call, self.official, self.project
        )
    }
}

impl Pair {
    /// Both answer `status` with error `code` (`None`: no code) in bodies of one shape.
    fn agree(&self, status: u16, code: Option<&str>) -> &Pair {
        self.differ((status, code), (status, code)).same_shape()
    }

    /// Like `agree`, except that the project's body also has the top-level `extra` keys.
    fn agree_but(&self, status: u16, code: Option<&str>, extra: &[&str]) -> &Pair {
        self.differ((status, code), (status, code));
        let mut project = self.project.body.clone();
        if let Some(object) = project.as_object_mut() {
            for key in extra {
                assert!(object.remove(*key).is_some(), "no `{key}` in\n{self}");
            }
        }
        assert_eq!(shape(&self.official.body), shape(&project), "{self}");
        self
    }

    /// A difference docs/emulator-fidelity.md records: the official emulator answers with the
    /// status and code of `official`, the project's with those of `project`.
    fn differ(&self, official: (u16, Option<&str>), project: (u16, Option<&str>)) -> &Pair {
        assert_eq!(
            (self.official.status, self.official.code()),
            official,
            "official emulator\n{self}"
        );
        assert_eq!(
            (self.project.status, self.project.code()),
            project,
            "project emulator\n{self}"
        );
        self
    }

    /// Both bodies have the same keys, with values of the same JSON types.
    fn same_shape(&self) -> &Pair {
        assert_eq!(
            shape(&self.official.body),
            shape(&self.project.body),
            "{self}"
        );
        self
    }

    /// Both bodies are equal, byte for byte after parsing.
    fn same_body(&self) -> &Pair {
        assert_eq!(self.official.body, self.project.body, "{self}");
        self
    }

    /// Both bodies hold the same value at `pointer` (e.g. `/errors`).
    fn same_at(&self, pointer: &str) -> &Pair {
        let official = self.official.body.pointer(pointer);
        assert!(official.is_some(), "no {pointer}\n{self}");
        assert_eq!(official, self.project.body.pointer(pointer), "{self}");
        self
    }
}

/// A value with every leaf replaced by the name of its JSON type, and object keys sorted (for
/// readable failures; comparison ignores key order anyway).
fn shape(value: &Value) -> Value {
    match value {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> =
                map.iter().map(|(key, item)| (key, shape(item))).collect();
            Value::Object(
                sorted
                    .into_iter()
                    .map(|(key, item)| (key.clone(), item))
                    .collect(),
            )
        }
    }
}

#[test]
fn creating_and_creating_again() {
    let servers = Servers::start();
    let uri = "http://localhost:3101/callback";
    let origin = "http://localhost:3101";

    // WorkOS documents `default` on a redirect URI; the official emulator leaves it out.
    servers
        .send(&post(REDIRECT_URIS, json!({"uri": uri})))
        .agree_but(201, None, &["default"])
        .same_at("/object")
        .same_at("/uri");
    servers
        .send(&post(CORS_ORIGINS, json!({"origin": origin})))
        .agree(201, None)
        .same_at("/object")
        .same_at("/origin");

    // Same status and code; the project's message names the URI, as WorkOS's does.
    let duplicate = servers.send(&post(REDIRECT_URIS, json!({"uri": uri})));
    duplicate.agree(422, Some("redirect_uri_already_exists"));
    assert_eq!(
        duplicate.official.body["message"],
        "Redirect URI already exists"
    );
    assert_eq!(
        duplicate.project.body["message"],
        format!("Redirect URI '{uri}' already exists.")
    );

    // WorkOS answers a duplicate origin with 409; the official emulator with 422.
    servers
        .send(&post(CORS_ORIGINS, json!({"origin": origin})))
        .differ(
            (422, Some("cors_origin_already_exists")),
            (409, Some("duplicate_cors_origin")),
        )
        .same_shape();
}

#[test]
fn the_official_emulator_has_no_list_endpoints() {
    let servers = Servers::start();
    let legacy = Servers::legacy();

    for path in [
        REDIRECT_URIS,
        CORS_ORIGINS,
        "/user_management/redirect_uris?limit=1&order=asc",
    ] {
        let pair = servers.send(&get(path));
        pair.differ(NOT_FOUND, (200, None));
        assert_eq!(pair.project.body["object"], "list", "{pair}");
        legacy
            .send(&get(path))
            .agree(404, Some("not_found"))
            .same_body();
    }
}

/// One page of a walk: the positions (in creation order) of its items and of its cursors.
#[derive(Debug, PartialEq, Eq)]
struct Page {
    items: Vec<usize>,
    before: Option<usize>,
    after: Option<usize>,
}

fn read_page(answer: &Answer, created: &[String]) -> Page {
    let position = |id: &Value| {
        let id = id.as_str()?;
        created.iter().position(|known| known == id)
    };
    let items = answer.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {answer}"))
        .iter()
        .map(|item| position(&item["id"]).unwrap_or_else(|| panic!("an item it made: {answer}")))
        .collect();
    Page {
        items,
        before: position(&answer.body["list_metadata"]["before"]),
        after: position(&answer.body["list_metadata"]["after"]),
    }
}

/// Walks a list forward with `after`, one item per page.
fn walk(send: impl Fn(&str) -> Answer, list: &str, order: &str, created: &[String]) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    for _ in 0..=created.len() {
        let answer = send(&format!("{list}limit=1{order}&after={cursor}"));
        assert_eq!(answer.status, 200, "{answer}");
        let page = read_page(&answer, created);
        let next = answer.body["list_metadata"]["after"]
            .as_str()
            .map(str::to_owned);
        pages.push(page);
        match next {
            Some(id) => cursor = id,
            None => break,
        }
    }
    pages
}

/// The official emulator lists no redirect URIs, but it does list organizations with the same
/// pagination code, so that list is the reference for the project's cursors.
#[test]
fn pagination_walks_like_the_official_emulators_lists() {
    let servers = Servers::start();
    let tag = "conformance-pagination";
    let official: Vec<String> = (0..3)
        .map(|n| {
            let created = servers.to_official(&post(
                "/organizations",
                json!({"name": format!("{tag} {n}")}),
            ));
            assert_eq!(created.status, 201, "{created}");
            created.id()
        })
        .collect();
    let project: Vec<String> = (0..3)
        .map(|n| {
            let uri = format!("http://localhost:3102/callback/{n}");
            let created = servers.to_project(&post(REDIRECT_URIS, json!({"uri": uri})));
            assert_eq!(created.status, 201, "{created}");
            created.id()
        })
        .collect();
    let official_list = format!("/organizations?name={tag}&");
    let project_list = format!("{REDIRECT_URIS}?");
    let official_get = |path: &str| servers.to_official(&get(path));
    let project_get = |path: &str| servers.to_project(&get(path));

    let envelope = |answer: Answer| {
        let mut body = answer.body;
        body["data"] = json!([]);
        shape(&body)
    };
    assert_eq!(
        envelope(official_get(&official_list)),
        envelope(project_get(&project_list))
    );

    let page = |items: &[usize], before, after| Page {
        items: items.to_vec(),
        before,
        after,
    };
    let ascending = vec![
        page(&[0], None, Some(0)),
        page(&[1], Some(1), Some(1)),
        page(&[2], Some(2), None),
    ];
    let descending = vec![
        page(&[2], None, Some(2)),
        page(&[1], Some(1), Some(1)),
        page(&[0], Some(0), None),
    ];
    for (order, expected) in [
        ("&order=asc", &ascending),
        ("&order=desc", &descending),
        ("", &descending),
    ] {
        let official_pages = walk(official_get, &official_list, order, &official);
        let project_pages = walk(project_get, &project_list, order, &project);
        assert_eq!(&official_pages, expected, "official emulator, {order:?}");
        assert_eq!(&project_pages, expected, "project emulator, {order:?}");
    }

    // `before` alone: the official emulator returns the first items of the list up to the
    // cursor, the project's the items nearest to it (the page before, as WorkOS documents).
    let before = |list: &str, ids: &[String]| format!("{list}limit=1&order=asc&before={}", ids[2]);
    assert_eq!(
        read_page(&official_get(&before(&official_list, &official)), &official),
        page(&[0], None, Some(0))
    );
    assert_eq!(
        read_page(&project_get(&before(&project_list, &project)), &project),
        page(&[1], Some(1), Some(1))
    );

    // A cursor that names no object: the official emulator ignores it, the project's takes it
    // as a place in the order (here, past the newest item).
    let unknown = "order=asc&after=org_ZZZZZZZZZZZZZZZZZZZZZZZZZZ";
    let official_answer = official_get(&format!("{official_list}{unknown}"));
    assert_eq!(
        read_page(&official_answer, &official),
        page(&[0, 1, 2], None, None)
    );
    let unknown = "order=asc&after=redirect_uri_ZZZZZZZZZZZZZZZZZZZZZZZZZZ";
    let project_answer = project_get(&format!("{project_list}{unknown}"));
    assert_eq!(read_page(&project_answer, &project), page(&[], None, None));

    // Out-of-range limits and unknown orders: the official emulator falls back to defaults,
    // the project's refuses them.
    for query in ["limit=0", "limit=101", "limit=ten", "order=sideways"] {
        let official_answer = official_get(&format!("{official_list}{query}"));
        assert_eq!(official_answer.status, 200, "{query}: {official_answer}");
        assert_eq!(
            official_answer.body["data"].as_array().map(Vec::len),
            Some(3),
            "{query}: {official_answer}"
        );
        let project_answer = project_get(&format!("{project_list}{query}"));
        assert_eq!(
            (project_answer.status, project_answer.code()),
            (422, Some("invalid_request_parameters")),
            "{query}: {project_answer}"
        );
    }
}

#[test]
fn requests_without_a_known_key_get_401() {
    let servers = Servers::start();
    let calls = [
        get(REDIRECT_URIS),
        post(
            REDIRECT_URIS,
            json!({"uri": "http://localhost:3103/callback"}),
        ),
        post(CORS_ORIGINS, json!({"origin": "http://localhost:3103"})),
        put(HOMEPAGE, json!({"url": "http://localhost:3103"})),
        delete("/user_management/redirect_uris/redirect_uri_unknown"),
        get("/no/such/path"),
    ];

    for key in [Key::Unknown, Key::Empty, Key::Basic, Key::Missing] {
        for call in &calls {
            let pair = servers.send(&call.clone().key(key));
            pair.agree(401, Some("unauthorized")).same_body();
            assert!(pair.official.header("x-request-id").is_some(), "{pair}");
            assert!(pair.project.header("x-request-id").is_some(), "{pair}");
            // The project's emulator reports an untouched window on refused requests; the
            // official one sends no rate-limit headers with them.
            assert_eq!(pair.official.header("x-ratelimit-limit"), None, "{pair}");
            assert_eq!(pair.project.header("x-ratelimit-limit"), Some("6000"));
        }
    }

    // Nothing was created by any of them.
    for path in [REDIRECT_URIS, CORS_ORIGINS] {
        let listed = servers.to_project(&get(path));
        assert_eq!(listed.body["data"], json!([]), "{listed}");
    }
    servers
        .send(&post(
            REDIRECT_URIS,
            json!({"uri": "http://localhost:3103/callback"}),
        ))
        .agree_but(201, None, &["default"]);
}

#[test]
fn malformed_bodies() {
    let servers = Servers::start();

    for (path, field) in [(REDIRECT_URIS, "uri"), (CORS_ORIGINS, "origin")] {
        for text in ["not json", "{\"uri\": ", ""] {
            servers
                .send(&call(Method::POST, path).raw(text))
                .agree(400, Some("invalid_request_body"))
                .same_body();
        }

        // A missing field, whatever hides it; WorkOS's code for parameter errors is
        // `invalid_request_parameters`, the official emulator's `unprocessable_entity`.
        for body in [
            json!({}),
            json!({ field: null }),
            json!({ field: "" }),
            json!({"unrelated": "http://localhost:3104"}),
            json!([]),
            json!(null),
            json!("http://localhost:3104"),
        ] {
            servers
                .send(&post(path, body))
                .differ(
                    (422, Some("unprocessable_entity")),
                    (422, Some("invalid_request_parameters")),
                )
                .same_shape()
                .same_at("/errors");
        }

        // A value of the wrong type: the official emulator stores it as it came.
        for value in [json!(3104), json!(true), json!(["http://localhost:3104"])] {
            let pair = servers.send(&post(path, json!({ field: value.clone() })));
            pair.differ((201, None), (422, Some("invalid_request_parameters")));
            assert_eq!(pair.official.body[field], value, "{pair}");
            assert_eq!(
                pair.project.body["errors"],
                json!([{"field": field, "code": "invalid_type"}])
            );
        }
    }

    // Values that are no redirect URI or origin: the official emulator checks nothing.
    servers
        .send(&post(REDIRECT_URIS, json!({"uri": "not a url 3104"})))
        .differ((201, None), (422, Some("invalid_redirect_uri")));
    let pair = servers.send(&post(
        CORS_ORIGINS,
        json!({"origin": "http://localhost:3104/path"}),
    ));
    pair.differ((201, None), (422, None));
    assert_eq!(pair.project.body["message"], "Validation failed.");
    assert_eq!(pair.project.body["errors"][0]["property"], "origin");
}

#[test]
fn unknown_paths_and_wrong_methods_get_404() {
    let servers = Servers::start();

    for request in [
        get("/no/such/path"),
        post("/user_management/nothing_here", json!({})),
        call(Method::PATCH, REDIRECT_URIS).json(json!({})),
        put(
            REDIRECT_URIS,
            json!({"uri": "http://localhost:3105/callback"}),
        ),
        delete(CORS_ORIGINS),
        get(HOMEPAGE),
        delete(HOMEPAGE),
    ] {
        let pair = servers.send(&request);
        pair.agree(404, Some("not_found")).same_body();
        assert_eq!(pair.project.header("allow"), None, "{pair}");
    }

    // The official emulator's health check is its own, not WorkOS's; the project's emulator
    // has none and wants a key first.
    let pair = servers.send(&get("/health").key(Key::Missing));
    pair.differ((200, None), (401, Some("unauthorized")));
    assert_eq!(pair.official.body, json!({"status": "ok"}));
}

#[test]
fn the_official_emulator_cannot_set_the_homepage_url() {
    let servers = Servers::start();
    let legacy = Servers::legacy();
    let request = put(HOMEPAGE, json!({"url": "http://localhost:3106"}));

    let pair = servers.send(&request);
    pair.differ(NOT_FOUND, (200, None));
    assert_eq!(
        pair.project.body,
        json!({"object": "app_homepage_url", "url": "http://localhost:3106"})
    );
    legacy
        .send(&request)
        .agree(404, Some("not_found"))
        .same_body();
}

#[test]
fn the_official_emulator_cannot_delete() {
    let servers = Servers::start();

    for (path, body, duplicate) in [
        (
            REDIRECT_URIS,
            json!({"uri": "http://localhost:3107/callback"}),
            "redirect_uri_already_exists",
        ),
        (
            CORS_ORIGINS,
            json!({"origin": "http://localhost:3107"}),
            "cors_origin_already_exists",
        ),
    ] {
        let created = servers.send(&post(path, body.clone()));
        assert_eq!(
            (created.official.status, created.project.status),
            (201, 201)
        );
        let official = delete(&format!("{path}/{}", created.official.id()));
        let project = delete(&format!("{path}/{}", created.project.id()));
        let pair = servers.send_each(&official, &project);
        pair.differ(NOT_FOUND, (204, None));
        assert_eq!(pair.project.body, Value::Null, "{pair}");

        // So the official emulator still has the item, and the project's does not.
        servers
            .send(&post(path, body))
            .differ((422, Some(duplicate)), (201, None));
    }

    for (path, prefix) in [
        (REDIRECT_URIS, "redirect_uri_"),
        (CORS_ORIGINS, "cors_origin_"),
    ] {
        let unknown = format!("{path}/{prefix}01AAAAAAAAAAAAAAAAAAAAAAAA");
        servers
            .send(&delete(&unknown))
            .differ(NOT_FOUND, (404, Some("entity_not_found")))
            .same_shape();
    }
}

#[test]
fn request_ids_and_rate_limit_headers() {
    let servers = Servers::start();

    let pair = servers.send(&get("/no/such/path"));
    for answer in [&pair.official, &pair.project] {
        let id = answer.header("x-request-id").unwrap_or_default();
        assert!(id.starts_with("req_"), "{id}");
    }

    let pair = servers.send(&get("/no/such/path").header("X-Request-ID", "conformance-trace"));
    assert_eq!(
        pair.official.header("x-request-id"),
        Some("conformance-trace")
    );
    assert_eq!(
        pair.project.header("x-request-id"),
        Some("conformance-trace")
    );

    // Both count requests per key and say so; the official emulator allows 1,000 a minute
    // and gives the reset as a Unix time, the project's allows WorkOS's 6,000 and gives the
    // seconds until the reset.
    let number = |answer: &Answer, name: &str| -> u64 {
        answer
            .header(name)
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("{name} is a number"))
    };
    let pair = servers.send(&post(
        REDIRECT_URIS,
        json!({"uri": "http://localhost:3108/callback"}),
    ));
    assert_eq!(number(&pair.official, "x-ratelimit-limit"), 1000);
    assert_eq!(number(&pair.project, "x-ratelimit-limit"), 6000);
    assert!(number(&pair.official, "x-ratelimit-remaining") < 1000);
    assert!(number(&pair.project, "x-ratelimit-remaining") < 6000);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let official_reset = number(&pair.official, "x-ratelimit-reset");
    assert!(
        (now..=now + 61).contains(&official_reset),
        "{official_reset}"
    );
    assert!((1..=60).contains(&number(&pair.project, "x-ratelimit-reset")));

    assert_eq!(
        pair.official.header("access-control-allow-origin"),
        Some("*")
    );
    assert_eq!(pair.project.header("access-control-allow-origin"), None);
}

#[test]
fn the_project_emulator_has_no_jwt_template() {
    let servers = Servers::start();

    let pair = servers.send(&get(JWT_TEMPLATE));
    pair.differ((200, None), NOT_FOUND);
    assert_eq!(pair.official.body["object"], "jwt_template");
    servers
        .send(&put(JWT_TEMPLATE, json!({"content": "{}"})))
        .differ((200, None), NOT_FOUND);
}

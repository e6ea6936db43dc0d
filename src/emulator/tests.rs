//! Tests of the emulator as its users see it: real HTTP over loopback against a started
//! [`Emulator`], checking status codes, bodies and headers against what WorkOS sends.

use std::path::Path;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{Config, Emulator};

/// A started emulator and a client that sends its default API key.
struct Harness {
    emulator: Emulator,
    http: reqwest::Client,
    key: String,
}

impl Harness {
    async fn start() -> Self {
        Self::with_config(Config::default()).await
    }

    async fn with_config(config: Config) -> Self {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        let key = emulator.api_key().to_owned();
        let http = reqwest::Client::builder()
            // A proxy from the environment must not intercept loopback traffic.
            .no_proxy()
            .build()
            .expect("client builds");
        Self {
            emulator,
            http,
            key,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.url())
    }

    /// Sends a request with `key` (or none) and an optional JSON body.
    async fn send_as(
        &self,
        key: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.http.request(method, self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request is answered")
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.send_as(Some(&self.key), method, path, body).await
    }

    async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a redirect URI and returns its object.
    async fn create_redirect_uri(&self, uri: &str) -> Value {
        let response = self
            .post("/user_management/redirect_uris", json!({"uri": uri}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {uri}");
        response.json().await.expect("JSON body")
    }

    async fn create_cors_origin(&self, origin: &str) -> Value {
        let response = self
            .post("/user_management/cors_origins", json!({"origin": origin}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {origin}");
        response.json().await.expect("JSON body")
    }

    async fn state(&self) -> Value {
        let response = self
            .send_as(None, Method::GET, "/_emulator/state", None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("JSON body")
    }
}

/// The status and JSON body of a response.
async fn answer(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.expect("JSON body");
    (status, body)
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("header {name} is missing"))
}

fn ids(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("data is a list")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn requests_without_a_known_key_get_401() {
    let harness = Harness::start().await;
    let path = "/user_management/redirect_uris";
    let unauthorized = json!({"message": "Unauthorized", "code": "unauthorized"});

    for key in [None, Some("sk_test_wrong"), Some("")] {
        let response = harness.send_as(key, Method::GET, path, None).await;
        assert!(header(&response, "x-request-id").starts_with("req_"));
        assert_eq!(
            answer(response).await,
            (StatusCode::UNAUTHORIZED, unauthorized.clone())
        );
    }
    let basic = harness
        .http
        .get(harness.url(path))
        .header("Authorization", format!("Basic {}", harness.key))
        .send()
        .await
        .expect("answered");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);

    // Authentication comes before routing.
    let response = harness
        .send_as(None, Method::GET, "/no/such/path", None)
        .await;
    assert_eq!(
        answer(response).await,
        (StatusCode::UNAUTHORIZED, unauthorized)
    );
}

#[tokio::test]
async fn unknown_paths_and_wrong_methods_get_json_errors() {
    let harness = Harness::start().await;

    let response = harness.get("/user_management/nothing_here").await;
    assert_eq!(
        answer(response).await,
        (
            StatusCode::NOT_FOUND,
            json!({"message": "Not Found", "code": "not_found"})
        )
    );

    // A known path with the wrong method is answered like an unknown path, as WorkOS's
    // official emulator does.
    let not_found = (
        StatusCode::NOT_FOUND,
        json!({"message": "Not Found", "code": "not_found"}),
    );
    let response = harness
        .send(Method::PATCH, "/user_management/redirect_uris", None)
        .await;
    assert!(response.headers().get("allow").is_none());
    assert!(header(&response, "x-request-id").starts_with("req_"));
    assert_eq!(answer(response).await, not_found);
    let response = harness.delete("/user_management/cors_origins").await;
    assert_eq!(answer(response).await, not_found);
    let response = harness.get("/user_management/app_homepage_url").await;
    assert_eq!(answer(response).await, not_found);
}

#[tokio::test]
async fn a_request_id_chosen_by_the_client_comes_back() {
    let harness = Harness::start().await;
    let chosen = harness
        .http
        .get(harness.url("/user_management/redirect_uris"))
        .bearer_auth(&harness.key)
        .header("X-Request-ID", "trace-42")
        .send()
        .await
        .expect("answered");
    assert_eq!(header(&chosen, "x-request-id"), "trace-42");

    let blank = harness
        .http
        .get(harness.url("/missing"))
        .header("X-Request-ID", " ")
        .send()
        .await
        .expect("answered");
    assert!(header(&blank, "x-request-id").starts_with("req_"));
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_rate_limit_headers() {
    let harness = Harness::start().await;

    let first = harness.get("/user_management/redirect_uris").await;
    let second = harness.get("/user_management/cors_origins").await;
    let missing = harness.get("/missing").await;
    let control = harness
        .send_as(None, Method::GET, "/_emulator/state", None)
        .await;
    let anonymous = harness.send_as(None, Method::GET, "/missing", None).await;

    let mut request_ids = Vec::new();
    for response in [&first, &second, &missing, &control, &anonymous] {
        let request_id = header(response, "x-request-id");
        assert!(
            request_id.starts_with("req_") && request_id.len() == 30,
            "{request_id}"
        );
        request_ids.push(request_id.to_owned());
        assert_eq!(header(response, "x-ratelimit-limit"), "6000");
        let reset: u64 = header(response, "x-ratelimit-reset")
            .parse()
            .expect("integer");
        assert!((1..=60).contains(&reset), "{reset}");
    }
    request_ids.sort();
    request_ids.dedup();
    assert_eq!(request_ids.len(), 5, "request ids are unique");
    assert_eq!(header(&first, "x-ratelimit-remaining"), "5999");
    assert_eq!(header(&second, "x-ratelimit-remaining"), "5998");
    assert_eq!(header(&missing, "x-ratelimit-remaining"), "5997");
    // Unauthenticated and control requests are charged to no key.
    assert_eq!(header(&control, "x-ratelimit-remaining"), "6000");
    assert_eq!(header(&anonymous, "x-ratelimit-remaining"), "6000");
}

#[tokio::test]
async fn requests_over_the_rate_limit_get_429_with_retry_after() {
    let harness = Harness::with_config(Config {
        rate_limit: Some(3),
        ..Config::default()
    })
    .await;
    let path = "/user_management/redirect_uris";

    for remaining in ["2", "1", "0"] {
        let response = harness.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
    }
    let refused = harness.get(path).await;
    let retry_after: u64 = header(&refused, "retry-after")
        .parse()
        .expect("integer seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&refused, "x-ratelimit-limit"), "3");
    assert_eq!(
        answer(refused).await,
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "Too many requests", "code": "rate_limit_exceeded"})
        )
    );

    // A wrong key is refused by authentication, which comes before the limit.
    let response = harness
        .send_as(Some("sk_test_nope"), Method::GET, path, None)
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // The control endpoint stays reachable, and a reset opens a new window.
    let reset = harness
        .send_as(None, Method::POST, "/_emulator/reset", None)
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    assert_eq!(harness.get(path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn redirect_uris_can_be_created_listed_and_deleted() {
    let harness = Harness::start().await;
    let path = "/user_management/redirect_uris";

    let created = harness
        .create_redirect_uri("http://localhost:3000/callback")
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("redirect_uri_"), "{id}");
    let keys: Vec<&String> = created.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        ["object", "id", "uri", "default", "created_at", "updated_at"]
    );
    assert_eq!(created["object"], "redirect_uri");
    assert_eq!(created["uri"], "http://localhost:3000/callback");
    let created_at = created["created_at"].as_str().expect("timestamp");
    assert_eq!(
        created_at.len(),
        "2026-12-03T15:54:14.123Z".len(),
        "{created_at}"
    );
    assert!(created_at.ends_with('Z') && created_at.as_bytes()[10] == b'T');
    assert_eq!(created["updated_at"], created["created_at"]);

    let duplicate = harness
        .post(path, json!({"uri": "http://localhost:3000/callback"}))
        .await;
    assert_eq!(
        answer(duplicate).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": "Redirect URI 'http://localhost:3000/callback' already exists.",
                "code": "redirect_uri_already_exists"
            })
        )
    );
    // Duplicates are exact-string matches: a trailing slash makes another URI.
    harness
        .create_redirect_uri("http://localhost:3000/callback/")
        .await;

    let (status, list) = answer(harness.get(path).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["data"][1], created, "newest first by default");
    assert_eq!(
        list["list_metadata"],
        json!({"before": null, "after": null})
    );

    let deleted = harness.delete(&format!("{path}/{id}")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(deleted.text().await.expect("body"), "");
    let again = harness.delete(&format!("{path}/{id}")).await;
    assert_eq!(
        answer(again).await,
        (
            StatusCode::NOT_FOUND,
            json!({"message": "Redirect URI not found", "code": "entity_not_found"})
        )
    );
    let (_, list) = answer(harness.get(path).await).await;
    assert_eq!(list["data"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_first_redirect_uri_becomes_the_default() {
    let harness = Harness::start().await;

    let first = harness
        .create_redirect_uri("https://example.com/callback")
        .await;
    let second = harness
        .create_redirect_uri("https://example.com/other")
        .await;
    assert_eq!(first["default"], true);
    assert_eq!(second["default"], false);

    // Deleting the default leaves the environment without one.
    let path = format!(
        "/user_management/redirect_uris/{}",
        first["id"].as_str().expect("id")
    );
    assert_eq!(harness.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let (_, list) = answer(harness.get("/user_management/redirect_uris").await).await;
    assert_eq!(list["data"][0]["default"], false);
    let third = harness
        .create_redirect_uri("https://example.com/third")
        .await;
    assert_eq!(third["default"], false);

    // A wildcard URI never becomes the default, even in an empty environment.
    let reset = harness
        .send_as(None, Method::POST, "/_emulator/reset", None)
        .await;
    assert_eq!(reset.status(), StatusCode::OK);
    let wildcard = harness
        .create_redirect_uri("https://*.example.com/callback")
        .await;
    assert_eq!(wildcard["default"], false);
}

#[tokio::test]
async fn malformed_create_requests_are_refused() {
    let harness = Harness::start().await;
    let path = "/user_management/redirect_uris";

    for uri in [
        "not a url",
        "/callback",
        "ftp://example.com/callback",
        "https://example.com/callback#part",
        "https://a.*.example.com/callback",
        "https:///callback",
    ] {
        let (status, body) = answer(harness.post(path, json!({"uri": uri})).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(body["code"], "invalid_redirect_uri", "{uri}");
        assert!(
            body["message"].as_str().is_some_and(|m| m.contains(uri)),
            "{body}"
        );
    }

    let (status, body) = answer(harness.post(path, json!({})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_request_parameters");
    assert_eq!(
        body["errors"],
        json!([{"field": "uri", "code": "required"}])
    );
    let (status, body) = answer(harness.post(path, json!({"uri": 7})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!([{"field": "uri", "code": "invalid_type"}])
    );

    let raw = |body: &'static str| {
        harness
            .http
            .post(harness.url(path))
            .bearer_auth(&harness.key)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let not_json = (
        StatusCode::BAD_REQUEST,
        json!({"message": "Problems parsing JSON", "code": "invalid_request_body"}),
    );
    assert_eq!(
        answer(raw("{\"uri\": ").await.expect("answered")).await,
        not_json
    );
    assert_eq!(answer(raw("").await.expect("answered")).await, not_json);

    // JSON that is not an object, and an empty string, leave the field missing.
    for body in ["[\"https://example.com\"]", "null", "{\"uri\": \"\"}"] {
        let (status, answered) = answer(raw(body).await.expect("answered")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            answered["errors"],
            json!([{"field": "uri", "code": "required"}]),
            "{body}"
        );
    }

    let huge = json!({"uri": format!("https://example.com/{}", "a".repeat(super::BODY_LIMIT))});
    let (status, body) = answer(harness.post(path, huge).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");

    // Nothing was stored by any of these.
    assert_eq!(
        harness.state().await["environments"][0]["redirect_uris"],
        json!([])
    );
}

#[tokio::test]
async fn cors_origins_can_be_created_listed_and_deleted() {
    let harness = Harness::start().await;
    let path = "/user_management/cors_origins";

    let created = harness.create_cors_origin("http://localhost:3000").await;
    let keys: Vec<&String> = created.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["object", "id", "origin", "created_at", "updated_at"]);
    assert_eq!(created["object"], "cors_origin");
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("cors_origin_"), "{id}");

    let duplicate = harness
        .post(path, json!({"origin": "http://localhost:3000"}))
        .await;
    assert_eq!(
        answer(duplicate).await,
        (
            StatusCode::CONFLICT,
            json!({"code": "duplicate_cors_origin", "message": "CORS origin already exists."})
        )
    );

    let invalid = json!({
        "message": "Validation failed.",
        "errors": [{
            "property": "origin",
            "constraints": {"isOrigin": "origin must be a valid origin"}
        }]
    });
    for origin in [
        "http://localhost:3000/",
        "https://example.com/app",
        "https://example.com?x=1",
        "https://example.com#x",
        "example.com",
        "https://*.example.com",
    ] {
        let response = harness.post(path, json!({"origin": origin})).await;
        assert_eq!(
            answer(response).await,
            (StatusCode::UNPROCESSABLE_ENTITY, invalid.clone()),
            "{origin}"
        );
    }
    let (status, body) = answer(harness.post(path, json!({"uri": "x"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"],
        json!([{"field": "origin", "code": "required"}])
    );

    let (_, list) = answer(harness.get(path).await).await;
    assert_eq!(list["data"], json!([created]));

    assert_eq!(
        harness.delete(&format!("{path}/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        answer(harness.delete(&format!("{path}/{id}")).await).await,
        (
            StatusCode::NOT_FOUND,
            json!({"message": "CORS origin not found", "code": "entity_not_found"})
        )
    );
    let (_, list) = answer(harness.get(path).await).await;
    assert_eq!(list["data"], json!([]));
}

/// Follows cursors from `first_query` until the chosen cursor is null, returning each page's
/// ids in the order the pages were fetched.
async fn walk(harness: &Harness, path: &str, first_query: &str, cursor: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut query = first_query.to_owned();
    loop {
        let (status, page) = answer(harness.get(&format!("{path}?{query}")).await).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        pages.push(ids(&page));
        assert!(pages.len() <= 10, "the walk does not end");
        match page["list_metadata"][cursor].as_str() {
            Some(next) => query = format!("{first_query}&{cursor}={next}"),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn lists_paginate_forwards_and_backwards_in_both_orders() {
    let harness = Harness::start().await;
    let path = "/user_management/cors_origins";
    let mut created = Vec::new();
    for port in 3000..3010 {
        let item = harness
            .create_cors_origin(&format!("http://localhost:{port}"))
            .await;
        created.push(item["id"].as_str().expect("id").to_owned());
    }
    let mut sorted = created.clone();
    sorted.sort();
    assert_eq!(sorted, created, "ids sort in creation order");
    let newest_first: Vec<String> = created.iter().rev().cloned().collect();

    for (order, expected) in [("asc", &created), ("desc", &newest_first)] {
        let forward = walk(&harness, path, &format!("order={order}&limit=3"), "after").await;
        let sizes: Vec<usize> = forward.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1], "{order}");
        assert_eq!(&forward.concat(), expected, "{order}");

        // Backwards from the last page: each page holds the items just before the cursor,
        // still in the chosen order.
        let last_first_id = &forward[3][0];
        let query = format!("order={order}&limit=3&before={last_first_id}");
        let (_, page) = answer(harness.get(&format!("{path}?{query}")).await).await;
        assert_eq!(ids(&page), expected[6..9], "{order}");
        let backward = walk(&harness, path, &format!("order={order}&limit=3"), "before").await;
        assert_eq!(
            backward,
            [expected[..3].to_vec()],
            "no page precedes the first"
        );
        let mut from_end = walk(
            &harness,
            path,
            &format!("order={order}&limit=3&before={last_first_id}"),
            "before",
        )
        .await;
        from_end.reverse();
        assert_eq!(from_end.concat(), expected[..9], "{order}");
    }

    // Metadata of a middle page points both ways; `normal` is the default order.
    let query = format!("limit=3&order=normal&after={}", newest_first[2]);
    let (_, page) = answer(harness.get(&format!("{path}?{query}")).await).await;
    assert_eq!(ids(&page), newest_first[3..6]);
    assert_eq!(
        page["list_metadata"],
        json!({"before": newest_first[3], "after": newest_first[5]})
    );

    // A cursor that names no object is a position in the order.
    let query = "order=asc&limit=3&after=cors_origin_0";
    let (_, page) = answer(harness.get(&format!("{path}?{query}")).await).await;
    assert_eq!(ids(&page), created[..3]);
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let harness = Harness::start().await;
    for path in [
        "/user_management/redirect_uris",
        "/user_management/cors_origins",
    ] {
        for limit in ["0", "101", "-3", "ten", "1.5"] {
            let response = harness.get(&format!("{path}?limit={limit}")).await;
            let (status, body) = answer(response).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{limit}");
            assert_eq!(body["code"], "invalid_request_parameters");
            assert_eq!(body["errors"][0]["field"], "limit");
        }
        for limit in ["1", "100"] {
            let response = harness.get(&format!("{path}?limit={limit}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{limit}");
        }
        let (status, body) = answer(harness.get(&format!("{path}?order=newest")).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "order");
    }
}

/// A state file with the default sandbox and a production environment.
fn write_two_environment_state(path: &Path) {
    let state = json!({
        "version": 1,
        "environments": [
            {
                "id": "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E8",
                "name": "Sandbox",
                "client_id": "client_01KBJ7Q5X0M1A4Z7D1V3C9W2E8",
                "api_keys": ["sk_test_from_file"],
                "redirect_uris": [],
                "cors_origins": [],
                "app_homepage_url": null
            },
            {
                "id": "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E9",
                "name": "Production",
                "client_id": "client_01KBJ7Q5X0M1A4Z7D1V3C9W2E9",
                "api_keys": ["sk_live_from_file"]
            }
        ]
    });
    std::fs::write(path, state.to_string()).expect("state file written");
}

#[tokio::test]
async fn production_keys_refuse_http_and_local_urls() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("state.json");
    write_two_environment_state(&file);
    let harness = Harness::with_config(Config {
        state_file: Some(file),
        ..Config::default()
    })
    .await;
    assert_eq!(harness.emulator.api_key(), "sk_test_from_file");
    assert_eq!(
        harness.emulator.client_id(),
        "client_01KBJ7Q5X0M1A4Z7D1V3C9W2E8"
    );
    assert_eq!(
        harness.emulator.environment_id(),
        "environment_01KBJ7Q5X0M1A4Z7D1V3C9W2E8"
    );
    let live = Some("sk_live_from_file");
    let post =
        |path: &'static str, body: Value| harness.send_as(live, Method::POST, path, Some(body));

    for uri in [
        "http://example.com/callback",
        "https://localhost:3000/callback",
        "https://127.0.0.1/callback",
    ] {
        let (status, body) =
            answer(post("/user_management/redirect_uris", json!({"uri": uri})).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}");
        assert_eq!(body["code"], "invalid_redirect_uri", "{uri}");
    }
    let response = post(
        "/user_management/redirect_uris",
        json!({"uri": "https://app.example.com/callback"}),
    )
    .await;
    let (status, body) = answer(response).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["default"], true);

    for origin in ["http://example.com", "https://localhost:3000"] {
        let response = post("/user_management/cors_origins", json!({"origin": origin})).await;
        let (status, body) = answer(response).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{origin}");
        assert_eq!(body["message"], "Validation failed.");
        assert_eq!(body["errors"][0]["property"], "origin");
    }
    let response = post(
        "/user_management/cors_origins",
        json!({"origin": "https://app.example.com"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let homepage = |url: &str| {
        harness.send_as(
            live,
            Method::PUT,
            "/user_management/app_homepage_url",
            Some(json!({"url": url})),
        )
    };
    let (status, body) = answer(homepage("http://localhost:3000").await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_request_parameters");
    assert_eq!(
        homepage("https://app.example.com").await.status(),
        StatusCode::OK
    );

    // The sandbox accepts what production refuses, and sees none of production's objects.
    let sandbox_uri = harness
        .create_redirect_uri("http://localhost:3000/callback")
        .await;
    assert_eq!(sandbox_uri["default"], true);
    let (_, list) = answer(harness.get("/user_management/cors_origins").await).await;
    assert_eq!(list["data"], json!([]));
    let state = harness.state().await;
    assert_eq!(
        state["environments"][1]["redirect_uris"][0]["uri"],
        "https://app.example.com/callback"
    );
    assert_eq!(
        state["environments"][1]["app_homepage_url"],
        "https://app.example.com"
    );
}

#[tokio::test]
async fn the_app_homepage_url_can_be_set() {
    let harness = Harness::start().await;
    let path = "/user_management/app_homepage_url";

    let response = harness
        .send(
            Method::PUT,
            path,
            Some(json!({"url": "http://localhost:3000/"})),
        )
        .await;
    assert_eq!(
        answer(response).await,
        (
            StatusCode::OK,
            json!({"object": "app_homepage_url", "url": "http://localhost:3000/"})
        )
    );
    assert_eq!(
        harness.state().await["environments"][0]["app_homepage_url"],
        "http://localhost:3000/"
    );

    for body in [
        json!({"url": "localhost:3000"}),
        json!({"url": null}),
        json!({}),
    ] {
        let (status, answer_body) = answer(harness.send(Method::PUT, path, Some(body)).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(answer_body["code"], "invalid_request_parameters");
        assert_eq!(answer_body["errors"][0]["field"], "url");
    }
}

#[tokio::test]
async fn state_is_saved_after_each_change_and_loaded_by_the_next_emulator() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("nested-name.json");
    let config = Config {
        state_file: Some(file.clone()),
        ..Config::default()
    };

    let harness = Harness::with_config(config.clone()).await;
    let uri = harness
        .create_redirect_uri("http://localhost:3000/callback")
        .await;
    let origin = harness.create_cors_origin("http://localhost:3000").await;
    // Saved before the answer, without waiting for shutdown.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("file exists")).expect("JSON");
    assert_eq!(
        saved["environments"][0]["redirect_uris"][0]["id"],
        uri["id"]
    );
    assert_eq!(saved, harness.state().await);
    let first_key = harness.emulator.api_key().to_owned();
    let first_client = harness.emulator.client_id().to_owned();
    harness.emulator.shutdown().await.expect("clean shutdown");

    let second = Harness::with_config(config).await;
    assert_eq!(second.emulator.api_key(), first_key);
    assert_eq!(second.emulator.client_id(), first_client);
    let (_, list) = answer(second.get("/user_management/redirect_uris").await).await;
    assert_eq!(list["data"], json!([uri]));
    let (_, list) = answer(second.get("/user_management/cors_origins").await).await;
    assert_eq!(list["data"], json!([origin]));
    // New ids still sort after the loaded ones.
    let later = second.create_cors_origin("http://localhost:4000").await;
    assert!(later["id"].as_str() > origin["id"].as_str());

    // Only the temporary files of atomic writes could be left behind; none are.
    let names: Vec<_> = std::fs::read_dir(directory.path())
        .expect("dir")
        .map(|entry| entry.expect("entry").file_name())
        .collect();
    assert_eq!(names, ["nested-name.json"]);
}

#[tokio::test]
async fn a_malformed_state_file_is_refused_with_its_name_and_problem() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("state.json");
    let start = || {
        Emulator::start(Config {
            state_file: Some(file.clone()),
            ..Config::default()
        })
    };

    std::fs::write(&file, "{\"version\": 1, \"environments\": [").expect("written");
    let error = format!(
        "{:#}",
        start().await.expect_err("malformed JSON is refused")
    );
    assert!(error.contains(&file.display().to_string()), "{error}");
    assert!(error.contains("line 1"), "{error}");

    std::fs::write(&file, r#"{"version": 9, "environments": []}"#).expect("written");
    let error = format!("{:#}", start().await.expect_err("wrong version is refused"));
    assert!(
        error.contains("state.json") && error.contains("version"),
        "{error}"
    );

    std::fs::write(
        &file,
        r#"{"version": 1, "environments": [], "extra": true}"#,
    )
    .expect("written");
    let error = format!("{:#}", start().await.expect_err("unknown field is refused"));
    assert!(error.contains("extra"), "{error}");

    // The file was left as it was.
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("extra")
    );
}

#[tokio::test]
async fn a_missing_state_file_starts_fresh_and_is_created() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("new.json");
    let emulator = Emulator::start(Config {
        state_file: Some(file.clone()),
        ..Config::default()
    })
    .await
    .expect("starts");
    assert_eq!(emulator.api_key(), "sk_test_emulator_default");
    assert!(emulator.client_id().starts_with("client_"));
    assert!(emulator.environment_id().starts_with("environment_"));
    assert!(file.exists());
    emulator.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_control_endpoints_show_and_reset_the_state() {
    let harness = Harness::start().await;
    let fresh = harness.state().await;
    assert_eq!(fresh["version"], 1);
    let environment = &fresh["environments"][0];
    assert_eq!(environment["api_keys"], json!([harness.emulator.api_key()]));
    assert_eq!(environment["client_id"], harness.emulator.client_id());
    assert_eq!(environment["id"], harness.emulator.environment_id());

    let uri = harness
        .create_redirect_uri("http://localhost:3000/callback")
        .await;
    let mut stored = uri.clone();
    if let Some(object) = stored.as_object_mut() {
        object.remove("object");
    }
    assert_eq!(
        harness.state().await["environments"][0]["redirect_uris"],
        json!([stored])
    );

    let reset = harness
        .send_as(None, Method::POST, "/_emulator/reset", None)
        .await;
    assert_eq!(answer(reset).await, (StatusCode::OK, fresh.clone()));
    assert_eq!(harness.state().await, fresh);
    let (_, list) = answer(harness.get("/user_management/redirect_uris").await).await;
    assert_eq!(list["data"], json!([]));
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let harness = Harness::start().await;
    let url = harness.url("/_emulator/state");
    assert_eq!(
        harness.http.get(&url).send().await.expect("up").status(),
        StatusCode::OK
    );

    harness.emulator.shutdown().await.expect("clean shutdown");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    assert!(client.get(&url).send().await.is_err());
}

/// An emulator that injects `faults` with seed 3.
async fn faulty(faults: &str) -> Harness {
    Harness::with_config(Config {
        faults: faults.parse().expect("fault spec"),
        seed: 3,
        slow_delay: std::time::Duration::from_millis(300),
        ..Config::default()
    })
    .await
}

async fn stats(harness: &Harness) -> Value {
    let response = harness
        .send_as(None, Method::GET, "/_emulator/stats", None)
        .await;
    answer(response).await.1
}

#[tokio::test]
async fn an_injected_429_says_when_to_come_back() {
    let harness = faulty("429=1").await;
    let response = harness.get("/user_management/redirect_uris").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "retry-after"), "1");
    assert_eq!(header(&response, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&response, "x-ratelimit-reset"), "1");
    assert!(header(&response, "x-request-id").starts_with("req_"));
    let (_, body) = answer(response).await;
    assert_eq!(body["code"], "rate_limit_exceeded");

    // Convex answers in its own shape; the control endpoints are never faulted.
    let response = harness
        .send_as(
            None,
            Method::POST,
            "/api/workos/has_associated_workos_team",
            None,
        )
        .await;
    assert_eq!(answer(response).await.1["code"], "RateLimited");
    assert_eq!(harness.state().await["version"], 1);
}

#[tokio::test]
async fn injected_server_errors_keep_each_api_s_shape() {
    let harness = faulty("503=1").await;
    let (status, body) = answer(harness.get("/user_management/cors_origins").await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "server_error");
    let response = harness
        .send_as(None, Method::POST, "/d/happy-otter-123/api/query", None)
        .await;
    let (status, body) = answer(response).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], "InternalServerError");
}

#[tokio::test]
async fn a_reset_closes_the_connection_without_an_answer_or_a_change() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let harness = faulty("reset=1").await;
    let address = harness
        .emulator
        .url()
        .trim_start_matches("http://")
        .to_owned();
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let body = r#"{"uri":"http://localhost:1/cb"}"#;
    let request = format!(
        "POST /user_management/redirect_uris HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        harness.key,
        body.len()
    );
    socket.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    let read = socket.read_to_end(&mut answer).await;
    // A reset, not an orderly close: the read fails, and not a byte of an answer came.
    let error = read.expect_err("the connection is reset");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    assert!(answer.is_empty());
    assert_eq!(
        harness.state().await["environments"][0]["redirect_uris"],
        json!([])
    );
}

#[tokio::test]
async fn a_lost_answer_leaves_the_change_made() {
    let harness = faulty("lost=1").await;
    let sent = harness
        .http
        .post(harness.url("/user_management/redirect_uris"))
        .bearer_auth(&harness.key)
        .json(&json!({"uri": "http://localhost:1/cb"}))
        .send()
        .await;
    assert!(sent.is_err(), "{sent:?}");
    let stored = &harness.state().await["environments"][0]["redirect_uris"];
    assert_eq!(stored[0]["uri"], "http://localhost:1/cb");
}

#[tokio::test]
async fn slow_answers_and_latency_add_their_delay() {
    let harness = Harness::with_config(Config {
        faults: "slow=1".parse().expect("spec"),
        slow_delay: std::time::Duration::from_millis(300),
        latency: std::time::Duration::from_millis(100),
        ..Config::default()
    })
    .await;
    let started = std::time::Instant::now();
    assert_eq!(
        harness.get("/user_management/redirect_uris").await.status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(400));
    let started = std::time::Instant::now();
    harness.state().await;
    assert!(started.elapsed() < std::time::Duration::from_millis(100));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_answers() {
    async fn statuses() -> Vec<u16> {
        let harness = faulty("500=0.3,429=0.2").await;
        let mut seen = Vec::new();
        for _ in 0..40 {
            let response = harness.get("/user_management/redirect_uris").await;
            seen.push(response.status().as_u16());
        }
        seen
    }
    let first = statuses().await;
    assert_eq!(first, statuses().await);
    assert!(first.contains(&200) && first.contains(&500) && first.contains(&429));
}

#[tokio::test]
async fn stats_count_requests_and_faults_until_a_reset() {
    let harness = faulty("").await;
    harness.get("/user_management/redirect_uris").await;
    harness.get("/user_management/redirect_uris").await;
    harness.delete("/user_management/cors_origins/nope").await;
    harness.state().await;
    let counts = stats(&harness).await;
    assert_eq!(counts["total"], 3);
    assert_eq!(counts["requests"]["GET /user_management/redirect_uris"], 2);
    assert_eq!(
        counts["requests"]["DELETE /user_management/cors_origins/nope"],
        1
    );
    assert_eq!(counts["faults"], json!({}));

    harness
        .send_as(None, Method::POST, "/_emulator/reset", None)
        .await;
    assert_eq!(stats(&harness).await["total"], 0);

    let harness = faulty("500=1").await;
    harness.get("/user_management/redirect_uris").await;
    assert_eq!(stats(&harness).await["faults"], json!({"500": 1}));
}

#[tokio::test]
async fn a_request_held_by_the_slow_fault_does_not_hold_up_shutdown() {
    let harness = Harness::with_config(Config {
        faults: "slow=1".parse().expect("spec"),
        ..Config::default()
    })
    .await;
    let url = harness.url("/user_management/redirect_uris");
    let request = harness
        .http
        .get(url)
        .bearer_auth(&harness.key)
        .timeout(std::time::Duration::from_millis(200))
        .send()
        .await;
    assert!(request.is_err(), "{request:?}");

    let started = std::time::Instant::now();
    harness.emulator.shutdown().await.expect("clean shutdown");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

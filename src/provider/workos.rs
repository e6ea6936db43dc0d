//! The WorkOS provider: redirect URIs, CORS origins and the app homepage URL of the
//! environment that the API key belongs to.
//!
//! Lists are read page by page, both lists at once, each from both ends at once (see `walk`).
//! A list endpoint that answers 404 or 405
//! (older API versions, WorkOS's own emulator) does not fail the run: that kind degrades to
//! create-if-absent, and the plan says so. Creates treat WorkOS's "already exists" answers as
//! success, which is what makes them safe to retry and to run twice.

use std::fmt;
use std::sync::Arc;

use anyhow::Context as _;
use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::http::{Auth, Client, Endpoint, Response, server_text};
use crate::plan::{Action, Change, Operation};
use crate::state::{Address, Item, ResourceKind, Secret, State, Value};

use super::walk::{self, Answer, Order, Page, Pages, Walked};
use super::{Done, Outcome, Reader, Writer};

const REDIRECT_URIS: &str = "/user_management/redirect_uris";
const CORS_ORIGINS: &str = "/user_management/cors_origins";
const APP_HOMEPAGE_URL: &str = "/user_management/app_homepage_url";

/// WorkOS allows 100 per page; fewer pages means fewer serial round trips.
const PAGE_SIZE: u32 = 100;

/// How many writes run at once. WorkOS allows far more; this keeps bursts polite.
pub const DEFAULT_CONCURRENCY: usize = 8;

/// Connection details shared by the reader and the writer.
pub struct Api {
    client: Arc<Client>,
    endpoint: Endpoint,
    auth: Auth,
}

impl Api {
    pub fn new(client: Arc<Client>, endpoint: Endpoint, api_key: Secret) -> Api {
        Api {
            client,
            endpoint,
            auth: Auth::Bearer(api_key),
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<Response> {
        let mut url = self.endpoint.url(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(self
            .client
            .send(method, url, &self.auth, body.as_ref())
            .await?)
    }
}

/// An error answer from WorkOS, with what the user needs to report or act on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub method: Method,
    pub path: String,
    pub status: StatusCode,
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "WorkOS answered {} {} with {}",
            self.method, self.path, self.status
        )?;
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        let mut details = Vec::new();
        if let Some(code) = &self.code {
            details.push(format!("code {code}"));
        }
        if let Some(id) = &self.request_id {
            details.push(format!("X-Request-ID {id}"));
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    fn from_response(method: Method, path: &str, response: &Response) -> ApiError {
        let body: ErrorBody = serde_json::from_slice(&response.body).unwrap_or_default();
        let message = body
            .message
            .and_then(message_text)
            .or(body.error_description);
        let message = match (message, body.error) {
            (Some(m), _) => Some(m),
            (None, Some(e)) => Some(e),
            (None, None) if response.body.is_empty() => None,
            (None, None) => Some(snippet(&response.body)),
        };
        ApiError {
            method,
            path: path.to_owned(),
            status: response.status,
            code: body.code.map(|code| server_text(&code, 100)),
            message: message.map(|message| server_text(&message, 500)),
            request_id: response.request_id.clone(),
        }
    }

    fn hint(&self) -> Option<&'static str> {
        match self.status.as_u16() {
            401 => Some(
                "the API key is missing or unknown to WorkOS: check WORKOS_API_KEY and that \
                 WORKOS_API_URL points at the right server",
            ),
            403 => Some("the API key is valid but lacks permission for this endpoint"),
            _ => None,
        }
    }

    /// WorkOS answers a duplicate create in several ways depending on the resource and the
    /// server version: 409, or 422 with a code ending in `_already_exists` or a message saying
    /// "already exists". All of them mean the item is present.
    pub fn is_already_exists(&self) -> bool {
        match self.status.as_u16() {
            409 => true,
            422 => {
                self.code
                    .as_deref()
                    .is_some_and(|c| c.ends_with("_already_exists"))
                    || self
                        .message
                        .as_deref()
                        .is_some_and(|m| m.to_ascii_lowercase().contains("already exists"))
            }
            _ => false,
        }
    }
}

/// Error bodies differ by endpoint; every field is optional.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    /// A string, or a list of strings in framework-style answers.
    #[serde(default)]
    message: Option<serde_json::Value>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

fn message_text(message: serde_json::Value) -> Option<String> {
    match message {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Array(items) => {
            let texts: Vec<&str> = items.iter().filter_map(serde_json::Value::as_str).collect();
            (!texts.is_empty()).then(|| texts.join("; "))
        }
        _ => None,
    }
}

fn snippet(body: &[u8]) -> String {
    let shown = server_text(&String::from_utf8_lossy(body), 200);
    format!("unexpected answer: {shown}")
}

#[derive(Debug, Deserialize)]
struct ListPage<T> {
    data: Vec<T>,
    #[serde(default)]
    list_metadata: Option<ListMetadata>,
}

#[derive(Debug, Deserialize)]
struct ListMetadata {
    #[serde(default)]
    after: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RedirectUriObject {
    id: String,
    uri: String,
    #[serde(default)]
    default: bool,
}

#[derive(Debug, Deserialize)]
struct CorsOriginObject {
    id: String,
    origin: String,
}

/// A listed object reduced to what the plan needs.
struct Listed {
    id: String,
    value: String,
    is_default: bool,
}

/// Reads the kinds it was given; never writes.
pub struct WorkosReader {
    api: Arc<Api>,
    kinds: Vec<ResourceKind>,
}

impl WorkosReader {
    /// `kinds` are the WorkOS kinds the config manages; only those are read.
    pub fn new(api: Arc<Api>, kinds: Vec<ResourceKind>) -> WorkosReader {
        WorkosReader { api, kinds }
    }

    async fn read_list(&self, kind: ResourceKind) -> anyhow::Result<State> {
        let path = list_path(kind);
        let mut state = State::new();
        let list = List::new(&self.api, kind);
        match walk::from_both_ends(&list).await? {
            Walked::Items(items) => {
                for listed in items {
                    state.insert(
                        Address::new(kind, listed.value),
                        Item {
                            value: Value::Present,
                            remote_id: Some(listed.id),
                            is_default: listed.is_default,
                        },
                    );
                }
                state.mark_read(kind);
            }
            Walked::Missing(status) => state.mark_unreadable(
                kind,
                format!("GET {path} answered {status}, so existing items cannot be listed"),
            ),
        }
        Ok(state)
    }
}

/// One WorkOS list endpoint, page by page.
struct List<'a> {
    api: &'a Api,
    kind: ResourceKind,
    label: String,
}

impl<'a> List<'a> {
    fn new(api: &'a Api, kind: ResourceKind) -> List<'a> {
        List {
            api,
            kind,
            label: format!("GET {}", list_path(kind)),
        }
    }
}

impl Pages for List<'_> {
    type Item = Listed;

    fn id(item: &Listed) -> &str {
        &item.id
    }

    fn label(&self) -> &str {
        &self.label
    }

    async fn page(&self, order: Order, after: Option<&str>) -> anyhow::Result<Answer<Listed>> {
        let path = list_path(self.kind);
        let limit = PAGE_SIZE.to_string();
        let mut query = vec![("limit", limit.as_str()), ("order", order.as_str())];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let response = self.api.request(Method::GET, path, &query, None).await?;
        if matches!(response.status.as_u16(), 404 | 405) {
            return Ok(Answer::Missing(response.status));
        }
        if !response.status.is_success() {
            return Err(ApiError::from_response(Method::GET, path, &response).into());
        }
        let (items, after) = parse_page(self.kind, &response.body)
            .with_context(|| format!("WorkOS answered GET {path} with an unexpected body"))?;
        Ok(Answer::Page(Page { items, after }))
    }
}

fn list_path(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::CorsOrigin => CORS_ORIGINS,
        _ => REDIRECT_URIS,
    }
}

fn parse_page(kind: ResourceKind, body: &[u8]) -> anyhow::Result<(Vec<Listed>, Option<String>)> {
    let (items, meta) = if kind == ResourceKind::CorsOrigin {
        let page: ListPage<CorsOriginObject> = serde_json::from_slice(body)?;
        let items = page
            .data
            .into_iter()
            .map(|o| Listed {
                id: o.id,
                value: o.origin,
                is_default: false,
            })
            .collect();
        (items, page.list_metadata)
    } else {
        let page: ListPage<RedirectUriObject> = serde_json::from_slice(body)?;
        let items = page
            .data
            .into_iter()
            .map(|o| Listed {
                id: o.id,
                value: o.uri,
                is_default: o.default,
            })
            .collect();
        (items, page.list_metadata)
    };
    Ok((items, meta.and_then(|m| m.after)))
}

impl Reader for WorkosReader {
    fn kinds(&self) -> &[ResourceKind] {
        &self.kinds
    }

    async fn read(&self) -> anyhow::Result<State> {
        let reads = self
            .kinds
            .iter()
            .filter(|k| k.is_set_member())
            .map(|&kind| self.read_list(kind));
        let mut state = State::new();
        for part in futures::future::try_join_all(reads).await? {
            state.merge(part);
        }
        Ok(state)
    }
}

/// Executes WorkOS changes, a bounded number at a time.
pub struct WorkosWriter {
    api: Arc<Api>,
    concurrency: usize,
}

impl WorkosWriter {
    pub fn new(api: Arc<Api>, concurrency: usize) -> WorkosWriter {
        WorkosWriter {
            api,
            concurrency: concurrency.max(1),
        }
    }

    async fn execute(&self, change: &Change) -> anyhow::Result<Done> {
        let kind = change.kind();
        let name = change.address.name().unwrap_or_default();
        match (kind, change.operation()) {
            (ResourceKind::RedirectUri | ResourceKind::CorsOrigin, Some(Operation::Create)) => {
                let body = match kind {
                    ResourceKind::CorsOrigin => json!({ "origin": name }),
                    _ => json!({ "uri": name }),
                };
                self.create(list_path(kind), body).await
            }
            (ResourceKind::RedirectUri | ResourceKind::CorsOrigin, Some(Operation::Delete)) => {
                let id = change
                    .remote_id
                    .as_deref()
                    .with_context(|| format!("{}: no WorkOS id to delete", change.address))?;
                self.delete(list_path(kind), id).await
            }
            (ResourceKind::AppHomepageUrl, Some(Operation::Set)) => {
                let url = change
                    .after
                    .as_ref()
                    .and_then(Value::text)
                    .unwrap_or_default();
                self.set_homepage(url).await
            }
            (_, operation) => {
                anyhow::bail!("{}: WorkOS cannot perform {operation:?}", change.address)
            }
        }
    }

    async fn create(&self, path: &str, body: serde_json::Value) -> anyhow::Result<Done> {
        let response = self
            .api
            .request(Method::POST, path, &[], Some(body))
            .await?;
        if response.status.is_success() {
            return Ok(Done::new(Action::Create));
        }
        let error = ApiError::from_response(Method::POST, path, &response);
        if error.is_already_exists() {
            // Nothing changed on the server: reported as such, not counted as a create.
            return Ok(Done::with_note(Action::NoOp, "already existed"));
        }
        Err(error.into())
    }

    async fn delete(&self, collection: &str, id: &str) -> anyhow::Result<Done> {
        let path = format!("{collection}/{}", encode_segment(id));
        let response = self.api.request(Method::DELETE, &path, &[], None).await?;
        if response.status.is_success() {
            return Ok(Done::new(Action::Delete));
        }
        if response.status == StatusCode::NOT_FOUND {
            return Ok(Done::with_note(Action::NoOp, "already gone"));
        }
        Err(ApiError::from_response(Method::DELETE, &path, &response).into())
    }

    async fn set_homepage(&self, url: &str) -> anyhow::Result<Done> {
        let body = json!({ "url": url });
        let response = self
            .api
            .request(Method::PUT, APP_HOMEPAGE_URL, &[], Some(body))
            .await?;
        if response.status.is_success() {
            return Ok(Done::new(Action::Set));
        }
        let error = ApiError::from_response(Method::PUT, APP_HOMEPAGE_URL, &response);
        if response.status == StatusCode::NOT_FOUND {
            anyhow::bail!(
                "{error}\n  the server does not support setting the app homepage URL \
                 (PUT {APP_HOMEPAGE_URL} is missing); remove `appHomepageUrl` from convex.json \
                 or set it in the WorkOS dashboard"
            );
        }
        Err(error.into())
    }
}

/// Ids are opaque; percent-encoding keeps an odd one inside its path segment.
fn encode_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Writer for WorkosWriter {
    fn owns(&self, kind: ResourceKind) -> bool {
        matches!(
            kind,
            ResourceKind::RedirectUri | ResourceKind::CorsOrigin | ResourceKind::AppHomepageUrl
        )
    }

    async fn apply(&self, changes: Vec<Change>) -> Vec<Outcome> {
        futures::stream::iter(changes)
            .map(|change| async move {
                let result = self.execute(&change).await;
                Outcome { change, result }
            })
            .buffered(self.concurrency)
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, code: Option<&str>, message: Option<&str>) -> ApiError {
        ApiError {
            method: Method::POST,
            path: REDIRECT_URIS.to_owned(),
            status: StatusCode::from_u16(status).unwrap(),
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
            request_id: Some("req_1".to_owned()),
        }
    }

    #[test]
    fn duplicate_answers_count_as_present() {
        assert!(error(409, Some("duplicate_cors_origin"), None).is_already_exists());
        assert!(error(409, None, None).is_already_exists());
        assert!(error(422, Some("redirect_uri_already_exists"), None).is_already_exists());
        assert!(error(422, None, Some("Redirect URI 'x' Already Exists.")).is_already_exists());
        assert!(!error(422, Some("invalid_request_parameters"), Some("bad")).is_already_exists());
        assert!(!error(400, None, Some("already exists")).is_already_exists());
    }

    #[test]
    fn errors_show_status_message_and_request_id() {
        let text = error(422, Some("invalid_redirect_uri"), Some("nope")).to_string();
        assert!(text.contains("422 Unprocessable Entity"), "{text}");
        assert!(text.contains("nope"), "{text}");
        assert!(text.contains("X-Request-ID req_1"), "{text}");
        assert!(text.contains("code invalid_redirect_uri"), "{text}");
    }

    #[test]
    fn error_bodies_are_read_loosely() {
        let response = |body: &str| Response {
            status: StatusCode::BAD_REQUEST,
            request_id: None,
            body: body.as_bytes().to_vec(),
        };
        let e = ApiError::from_response(Method::GET, "/p", &response(r#"{"message":["a","b"]}"#));
        assert_eq!(e.message.as_deref(), Some("a; b"));
        let e = ApiError::from_response(
            Method::GET,
            "/p",
            &response(r#"{"error":"invalid_client","error_description":"bad"}"#),
        );
        assert_eq!(e.message.as_deref(), Some("bad"));
        let e = ApiError::from_response(Method::GET, "/p", &response("<html>oops</html>"));
        assert!(e.message.unwrap().contains("<html>oops"));
    }

    /// A state file for the emulator whose default environment has `len` redirect URIs.
    async fn state_with(len: usize, file: &std::path::Path) {
        let fresh = crate::emulator::Emulator::start(Default::default())
            .await
            .unwrap();
        let url = format!("{}/_emulator/state", fresh.url());
        let mut state: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        fresh.shutdown().await.unwrap();
        let uris: Vec<serde_json::Value> = (0..len)
            .map(|n| {
                json!({
                    "id": format!("redirect_uri_01J{n:023}"),
                    "uri": format!("https://app{n}.example.com/callback"),
                    "default": n == 0,
                    "created_at": "2026-01-01T00:00:00.000Z",
                    "updated_at": "2026-01-01T00:00:00.000Z",
                })
            })
            .collect();
        state["environments"][0]["redirect_uris"] = uris.into();
        std::fs::write(file, state.to_string()).unwrap();
    }

    /// How many list requests the emulator has received.
    async fn list_requests(url: &str) -> u64 {
        let stats: serde_json::Value = reqwest::get(format!("{url}/_emulator/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["requests"][format!("GET {REDIRECT_URIS}")]
            .as_u64()
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn both_ends_read_the_emulator_exactly_as_a_forward_walk() {
        let dir = tempfile::tempdir().unwrap();
        for len in [0, 1, 99, 100, 101, 250, 10_000] {
            let file = dir.path().join(format!("state-{len}.json"));
            state_with(len, &file).await;
            let config = crate::emulator::Config {
                state_file: Some(file),
                ..Default::default()
            };
            let emulator = crate::emulator::Emulator::start(config).await.unwrap();
            let client = Arc::new(Client::new(crate::http::Policy::default()).unwrap());
            let endpoint = Endpoint::parse("WORKOS_API_URL", emulator.url()).unwrap();
            let api = Api::new(client, endpoint, Secret::new(emulator.api_key()));
            let list = List::new(&api, ResourceKind::RedirectUri);
            let listed = |walked: Walked<Listed>| match walked {
                Walked::Items(items) => items
                    .into_iter()
                    .map(|l| (l.id, l.value, l.is_default))
                    .collect::<Vec<_>>(),
                Walked::Missing(status) => panic!("{status}"),
            };

            let plain = listed(walk::forward(&list).await.unwrap());
            let forward_requests = list_requests(emulator.url()).await;
            let both = listed(walk::from_both_ends(&list).await.unwrap());
            let both_requests = list_requests(emulator.url()).await - forward_requests;

            assert_eq!(plain.len(), len);
            assert_eq!(both, plain, "{len} redirect URIs");
            assert_eq!(forward_requests, len.div_ceil(100).max(1) as u64);
            let rounds = len.div_ceil(100).clamp(1, (len + 100) / 200 + 1);
            assert!(
                both_requests <= 2 * rounds as u64,
                "{len} redirect URIs: {both_requests} requests after {forward_requests}"
            );
            if len <= 100 {
                assert_eq!(both_requests, 1, "one page, one request");
            }
            emulator.shutdown().await.unwrap();
        }
    }

    #[test]
    fn pages_parse_and_reject_unexpected_types() {
        let body = br#"{"object":"list","data":[{"id":"ru_1","uri":"http://a","default":true}],
            "list_metadata":{"before":null,"after":"ru_1"}}"#;
        let (items, next) = parse_page(ResourceKind::RedirectUri, body).unwrap();
        assert_eq!(items.len(), 1);
        assert!(items[0].is_default);
        assert_eq!(next.as_deref(), Some("ru_1"));
        assert!(parse_page(ResourceKind::RedirectUri, br#"{"data":[{"id":1}]}"#).is_err());
        assert!(parse_page(ResourceKind::CorsOrigin, b"[]").is_err());
    }
}

//! Cursor pagination as WorkOS list endpoints do it.
//!
//! A list is ordered by object id (ids sort by creation time). `after` asks for the items that
//! follow a cursor id in the chosen order and `before` for the nearest items that precede it;
//! both come back in the chosen order. A cursor is a position, not a reference: an id that names
//! no object (for example one deleted since) still marks a place in the order, so a client
//! walking the list never fails half-way because of a concurrent delete.

use serde::Serialize;
use serde_json::Value;

use super::error::ApiError;

const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 100;

/// The direction of a list, by object id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Asc,
    Desc,
}

/// The validated pagination query of a list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageRequest {
    pub limit: usize,
    pub order: Order,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl PageRequest {
    /// Reads `limit`, `order`, `before` and `after` from decoded query pairs. Other parameters
    /// are ignored, as WorkOS ignores parameters it does not know; when one is repeated, the
    /// last value counts. An empty cursor means no cursor, so a client that echoes back an
    /// empty `list_metadata` value starts from the beginning instead of failing.
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let last = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };

        let limit = match last("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|limit| (1..=MAX_LIMIT).contains(limit))
                .ok_or_else(|| {
                    ApiError::invalid_parameter(
                        format!("limit must be an integer from 1 to {MAX_LIMIT}, got '{text}'."),
                        "limit",
                        "invalid",
                    )
                })?,
        };
        // WorkOS documents `normal` next to `asc` and `desc`; it lists newest first, like the
        // default.
        let order = match last("order") {
            None | Some("desc") | Some("normal") => Order::Desc,
            Some("asc") => Order::Asc,
            Some(other) => {
                return Err(ApiError::invalid_parameter(
                    format!("order must be one of 'asc', 'desc' or 'normal', got '{other}'."),
                    "order",
                    "invalid",
                ));
            }
        };
        let cursor = |name: &str| last(name).filter(|id| !id.is_empty()).map(str::to_owned);

        Ok(Self {
            limit,
            order,
            before: cursor("before"),
            after: cursor("after"),
        })
    }
}

/// One page of a list, ready to be sent.
#[derive(Debug, Serialize)]
pub(crate) struct ListEnvelope {
    object: &'static str,
    data: Vec<Value>,
    list_metadata: ListMetadata,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct ListMetadata {
    before: Option<String>,
    after: Option<String>,
}

/// Cuts the page that `request` asks for out of `items`, and renders each item with `render`.
///
/// With both cursors the page lies strictly between them and is taken from the `after` side.
/// `list_metadata.after` is the last id of the page when more items follow it in the chosen
/// order, and `list_metadata.before` the first id when items precede it; otherwise null.
pub(crate) fn paginate<T>(
    items: &[T],
    id_of: impl Fn(&T) -> &str,
    request: &PageRequest,
    render: impl Fn(&T) -> Value,
) -> ListEnvelope {
    let mut ordered: Vec<&T> = items.iter().collect();
    ordered.sort_by(|a, b| id_of(a).cmp(id_of(b)));
    if request.order == Order::Desc {
        ordered.reverse();
    }
    // Whether an id comes strictly before a cursor in the chosen order.
    let precedes = |id: &str, cursor: &str| match request.order {
        Order::Asc => id < cursor,
        Order::Desc => id > cursor,
    };

    // The items allowed by the cursors form one contiguous run, [low, high), of the ordered
    // list, because each cursor condition holds for a prefix or a suffix of it.
    let low = match &request.after {
        Some(cursor) => ordered.partition_point(|item| !precedes(cursor, id_of(item))),
        None => 0,
    };
    let high = match &request.before {
        Some(cursor) => ordered.partition_point(|item| precedes(id_of(item), cursor)),
        None => ordered.len(),
    }
    .max(low);
    let (start, end) = if request.before.is_some() && request.after.is_none() {
        (high.saturating_sub(request.limit).max(low), high)
    } else {
        (low, high.min(low + request.limit))
    };

    let page = &ordered[start..end];
    let list_metadata = match (page.first(), page.last()) {
        (Some(first), Some(last)) => ListMetadata {
            before: (start > 0).then(|| id_of(first).to_owned()),
            after: (end < ordered.len()).then(|| id_of(last).to_owned()),
        },
        _ => ListMetadata {
            before: None,
            after: None,
        },
    };
    ListEnvelope {
        object: "list",
        data: page.iter().map(|item| render(item)).collect(),
        list_metadata,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &[(&str, &str)]) -> Result<PageRequest, ApiError> {
        let pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        PageRequest::from_query(&pairs)
    }

    fn page(items: &[&str], query: &[(&str, &str)]) -> (Vec<String>, ListMetadata) {
        let request = request(query).expect("valid query");
        let owned: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
        let envelope = paginate(&owned, String::as_str, &request, |s| Value::from(s.clone()));
        let ids = envelope
            .data
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect();
        (ids, envelope.list_metadata)
    }

    fn meta(before: Option<&str>, after: Option<&str>) -> ListMetadata {
        ListMetadata {
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    const ITEMS: [&str; 5] = ["c", "a", "e", "b", "d"];

    #[test]
    fn defaults() {
        assert_eq!(
            request(&[]).expect("valid"),
            PageRequest {
                limit: 10,
                order: Order::Desc,
                before: None,
                after: None
            }
        );
        let (ids, metadata) = page(&ITEMS, &[]);
        assert_eq!(ids, ["e", "d", "c", "b", "a"]);
        assert_eq!(metadata, meta(None, None));
    }

    #[test]
    fn forward_and_backward_in_both_orders() {
        let asc = [("order", "asc"), ("limit", "2")];
        assert_eq!(
            page(&ITEMS, &asc),
            (vec!["a".into(), "b".into()], meta(None, Some("b")))
        );
        let after_b = [("order", "asc"), ("limit", "2"), ("after", "b")];
        assert_eq!(
            page(&ITEMS, &after_b),
            (vec!["c".into(), "d".into()], meta(Some("c"), Some("d")))
        );
        let before_c = [("order", "asc"), ("limit", "2"), ("before", "c")];
        assert_eq!(
            page(&ITEMS, &before_c),
            (vec!["a".into(), "b".into()], meta(None, Some("b")))
        );
        let before_e = [("limit", "2"), ("before", "b")];
        assert_eq!(
            page(&ITEMS, &before_e),
            (vec!["d".into(), "c".into()], meta(Some("d"), Some("c")))
        );
        let after_b_desc = [("limit", "2"), ("after", "b")];
        assert_eq!(
            page(&ITEMS, &after_b_desc),
            (vec!["a".into()], meta(Some("a"), None))
        );
    }

    #[test]
    fn cursors_are_positions() {
        assert_eq!(
            page(&ITEMS, &[("order", "asc"), ("after", "bb")]).0,
            ["c", "d", "e"]
        );
        assert_eq!(
            page(&ITEMS, &[("order", "asc"), ("after", "z")]),
            (vec![], meta(None, None))
        );
        assert_eq!(page(&ITEMS, &[("before", "a")]).0, ["e", "d", "c", "b"]);
        let window = [("order", "asc"), ("after", "a"), ("before", "e")];
        assert_eq!(page(&ITEMS, &window).0, ["b", "c", "d"]);
        let crossed = [("order", "asc"), ("after", "d"), ("before", "b")];
        assert_eq!(page(&ITEMS, &crossed).0, Vec::<String>::new());
        assert_eq!(page(&ITEMS, &[("after", "")]).0, ["e", "d", "c", "b", "a"]);
    }

    #[test]
    fn invalid_parameters() {
        for limit in ["0", "101", "-1", "abc", "", "2.5"] {
            let error = request(&[("limit", limit)]).expect_err(limit);
            assert_eq!(error.status().as_u16(), 422);
        }
        assert!(request(&[("limit", "1")]).is_ok());
        assert!(request(&[("limit", "100")]).is_ok());
        assert_eq!(
            request(&[("order", "normal")]).map(|r| r.order).ok(),
            Some(Order::Desc)
        );
        assert!(request(&[("order", "ASC")]).is_err());
    }
}

//! Walking a cursor-paginated WorkOS list with as few serial round trips as the API allows.
//!
//! A list answers one page per request and names the cursor of the next page only in its
//! answer, so a walk in one direction costs one round trip per page, one after the other. The
//! API can be walked from both ends, though: `order=asc` with `after` moves forward from the
//! oldest item, `order=desc` with `after` moves forward from the newest. [`from_both_ends`] runs
//! both walks at once and stops when they meet, which halves the serial round trips of a long
//! list: 10,000 items take 51 of them instead of 100.
//!
//! The newest-first walk starts only once the first page says more pages follow. A list that
//! fits on one page, which is nearly every environment, then costs one request, as a plain
//! walk does, instead of two whose second answer would be thrown away; the price is that some
//! lists of a few hundred items wait for one round trip more than if both walks had started at
//! once (300 items take 3, not 2), while long lists take as few as the API allows (10,000: 51).
//!
//! Object ids are opaque, so the walks cannot compare positions; they meet when a page holds an
//! id the other walk already has. That first shared id must be the other walk's last one, at
//! least one item must come before it (the other walk said more items follow its last one),
//! and the rest of the page must retrace the other walk's items. Anything else means the list
//! changed between pages, or the server pages in some other way: the newest-first walk is then
//! given up, and the oldest-first walk, which makes exactly the requests of the plain walk
//! [`forward`], goes on alone to the end. The result is then what the plain walk returns,
//! which treats a cursor as a position and so ends even while items come and go. No walk runs
//! forever: a cursor seen twice and more than [`MAX_PAGES`] pages both end it with an error.

use std::collections::HashSet;
use std::future::Future;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use reqwest::StatusCode;

use crate::http::server_text;

/// A walk that has not ended after this many pages is a server bug, not a big environment.
pub const MAX_PAGES: usize = 10_000;

/// The direction a walk moves in, as the `order` query parameter names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// One page: its items in the order asked for, and the cursor of the next page, if any.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub after: Option<String>,
}

/// A list endpoint's answer to one page request.
#[derive(Debug)]
pub enum Answer<T> {
    Page(Page<T>),
    /// The endpoint does not exist on this server (404 or 405).
    Missing(StatusCode),
}

/// The result of a walk.
#[derive(Debug)]
pub enum Walked<T> {
    /// Every item, oldest first.
    Items(Vec<T>),
    Missing(StatusCode),
}

/// A list that can be read page by page.
pub trait Pages: Sync {
    type Item: Send;

    /// The item's object id.
    fn id(item: &Self::Item) -> &str;

    /// Names the list in errors, e.g. `GET /user_management/redirect_uris`.
    fn label(&self) -> &str;

    /// Fetches the page that follows `after` in `order` (the first page without a cursor).
    fn page(
        &self,
        order: Order,
        after: Option<&str>,
    ) -> impl Future<Output = anyhow::Result<Answer<Self::Item>>> + Send;
}

/// Walks the list oldest first, following `after` to the end.
pub async fn forward<P: Pages>(pages: &P) -> anyhow::Result<Walked<P::Item>> {
    let mut walk = Walk::new(Order::Asc);
    for _ in 0..MAX_PAGES {
        let page = match pages.page(Order::Asc, walk.after.as_deref()).await? {
            Answer::Page(page) => page,
            Answer::Missing(status) => return Ok(Walked::Missing(status)),
        };
        if let Step::Done(items) = walk.alone(page, pages.label())? {
            return Ok(Walked::Items(items));
        }
    }
    anyhow::bail!("{} did not end after {MAX_PAGES} pages", pages.label())
}

const ASC: usize = 0;
const DESC: usize = 1;

/// Walks the list from both ends at once until the walks meet; see the module documentation.
pub async fn from_both_ends<P: Pages>(pages: &P) -> anyhow::Result<Walked<P::Item>> {
    let label = pages.label();
    let mut walks: [Walk<P::Item>; 2] = [Walk::new(Order::Asc), Walk::new(Order::Desc)];
    let mut in_flight = FuturesUnordered::new();
    in_flight.push(fetch(pages, ASC, Order::Asc, None));
    let mut desc_started = false;
    let mut desc_given_up = false;
    let mut fetched = 0;

    while let Some((side, answer)) = in_flight.next().await {
        if side == DESC && desc_given_up {
            continue;
        }
        let page = match answer? {
            Answer::Page(page) => page,
            Answer::Missing(status) => return Ok(Walked::Missing(status)),
        };
        fetched += 1;
        if fetched > MAX_PAGES {
            break;
        }
        let step = if desc_given_up {
            walks[ASC].alone(page, label)?
        } else {
            match meet::<P>(&mut walks, side, page, label)? {
                Meeting::Step(step) => step,
                Meeting::Apart(page) => {
                    desc_given_up = true;
                    tracing::debug!(
                        list = label,
                        "the walks from both ends did not meet cleanly, as the list changed \
                         while it was read; the oldest-first walk goes on alone"
                    );
                    match page {
                        Some(page) if side == ASC => walks[ASC].alone(page, label)?,
                        // The page was the newest-first walk's; the oldest-first walk's next
                        // request is in flight.
                        _ => continue,
                    }
                }
            }
        };
        match step {
            Step::Done(items) => return Ok(Walked::Items(items)),
            Step::Next(after) => {
                in_flight.push(fetch(pages, side, walks[side].order, Some(after)));
                if !desc_started {
                    desc_started = true;
                    in_flight.push(fetch(pages, DESC, Order::Desc, None));
                }
            }
        }
    }
    anyhow::bail!("{label} did not end after {MAX_PAGES} pages")
}

/// One page request, tagged with the walk it belongs to.
async fn fetch<P: Pages>(
    pages: &P,
    side: usize,
    order: Order,
    after: Option<String>,
) -> (usize, anyhow::Result<Answer<P::Item>>) {
    (side, pages.page(order, after.as_deref()).await)
}

/// One direction's progress.
struct Walk<T> {
    order: Order,
    /// Items in the walk's own order.
    items: Vec<T>,
    /// The ids of `items`, to notice where the other walk has been.
    ids: HashSet<String>,
    after: Option<String>,
    cursors: HashSet<String>,
}

impl<T> Walk<T> {
    fn new(order: Order) -> Walk<T> {
        Walk {
            order,
            items: Vec::new(),
            ids: HashSet::new(),
            after: None,
            cursors: HashSet::new(),
        }
    }

    /// Takes the next cursor; `false` at the end of the list. A cursor seen before is an error,
    /// because following it again would walk the same pages forever.
    fn advance(&mut self, after: Option<String>, label: &str) -> anyhow::Result<bool> {
        let Some(after) = after.filter(|a| !a.is_empty()) else {
            return Ok(false);
        };
        if !self.cursors.insert(after.clone()) {
            anyhow::bail!(
                "WorkOS answered {label} with the cursor `{}` twice; stopping instead of paging \
                 forever",
                server_text(&after, 100)
            );
        }
        self.after = Some(after);
        Ok(true)
    }

    /// Takes a page as a walk on its own does: every item, then the next cursor.
    fn alone(&mut self, page: Page<T>, label: &str) -> anyhow::Result<Step<T>> {
        self.items.extend(page.items);
        if self.advance(page.after, label)? {
            return Ok(Step::Next(self.after.clone().unwrap_or_default()));
        }
        let mut items = std::mem::take(&mut self.items);
        if self.order == Order::Desc {
            items.reverse();
        }
        Ok(Step::Done(items))
    }
}

/// What a walk does after a page.
enum Step<T> {
    /// The list is read: every item, oldest first.
    Done(Vec<T>),
    /// The walk goes on after this cursor.
    Next(String),
}

/// What a page means for the two walks.
enum Meeting<T> {
    Step(Step<T>),
    /// The walks disagree about the list: it changed while they read it. The page comes back
    /// unless the newest-first walk, which fetched it, already took it.
    Apart(Option<Page<T>>),
}

/// Adds the page fetched by `walks[side]` and decides whether the walks have met.
fn meet<P: Pages>(
    walks: &mut [Walk<P::Item>; 2],
    side: usize,
    page: Page<P::Item>,
    label: &str,
) -> anyhow::Result<Meeting<P::Item>> {
    let [asc, desc] = walks;
    let (this, other) = if side == ASC {
        (asc, desc)
    } else {
        (desc, asc)
    };

    let shared = page
        .items
        .iter()
        .position(|item| other.ids.contains(P::id(item)));
    if let Some(seam) = shared {
        // The other walk said more items follow its last one, so one at least comes before the
        // seam; from the seam on, the page must retrace the other walk's items, newest first.
        let follows = this.items.len() + seam > 0;
        let retraced = page.items[seam..].iter().enumerate().all(|(back, item)| {
            other
                .items
                .len()
                .checked_sub(back + 1)
                .is_some_and(|at| P::id(&other.items[at]) == P::id(item))
        });
        if !(follows && retraced) {
            return Ok(Meeting::Apart(Some(page)));
        }
        let mut items = std::mem::take(&mut this.items);
        items.extend(page.items.into_iter().take(seam));
        items.extend(std::mem::take(&mut other.items).into_iter().rev());
        if this.order == Order::Desc {
            items.reverse();
        }
        return Ok(Meeting::Step(Step::Done(items)));
    }

    this.ids
        .extend(page.items.iter().map(|item| P::id(item).to_owned()));
    let step = this.alone(page, label)?;
    // The oldest-first walk reaching the end alone has made a whole plain walk. The newest-first
    // one has read the whole list only if the other walk holds nothing: items it never met
    // were removed meanwhile.
    if side == DESC && matches!(step, Step::Done(_)) && !other.items.is_empty() {
        return Ok(Meeting::Apart(None));
    }
    Ok(Meeting::Step(step))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex;
    use std::time::Duration;

    use tokio::time::Instant;

    /// Virtual milliseconds per answer: the tests run on a paused clock, so time measures how
    /// many answers a walk waited for one after the other, without timing anything real.
    const ROUND_TRIP: u64 = 50;

    type Change = Box<dyn Fn(usize, &mut Vec<String>) + Send + Sync>;

    /// An in-memory list with WorkOS's cursor rules (a cursor is a position in the id order),
    /// which records every request and may change the list before answering one.
    struct Fake {
        ids: Mutex<Vec<String>>,
        limit: usize,
        requests: Mutex<usize>,
        /// Called with the request's number (from 0) before it is answered.
        change: Change,
        /// Milliseconds an answer takes, for `asc` and `desc`.
        latency: [u64; 2],
        /// Answers newest first whatever the order asked for, as a careless server might.
        ignores_order: bool,
    }

    impl Fake {
        fn new(len: usize) -> Fake {
            Fake {
                ids: Mutex::new((0..len).map(id).collect()),
                limit: 100,
                requests: Mutex::new(0),
                change: Box::new(|_, _| {}),
                latency: [ROUND_TRIP, ROUND_TRIP],
                ignores_order: false,
            }
        }

        fn current(&self) -> Vec<String> {
            let mut ids = self.ids.lock().unwrap().clone();
            ids.sort();
            ids
        }

        fn requests(&self) -> usize {
            *self.requests.lock().unwrap()
        }
    }

    fn id(n: usize) -> String {
        format!("redirect_uri_{n:08}")
    }

    impl Pages for Fake {
        type Item = String;

        fn id(item: &String) -> &str {
            item
        }

        fn label(&self) -> &str {
            "GET /fake"
        }

        async fn page(&self, order: Order, after: Option<&str>) -> anyhow::Result<Answer<String>> {
            let number = {
                let mut requests = self.requests.lock().unwrap();
                *requests += 1;
                *requests - 1
            };
            let latency = self.latency[usize::from(order == Order::Desc)];
            tokio::time::sleep(Duration::from_millis(latency)).await;

            let mut ids = self.ids.lock().unwrap();
            (self.change)(number, &mut ids);
            ids.sort();
            let order = if self.ignores_order {
                Order::Desc
            } else {
                order
            };
            let ordered: Vec<&String> = match order {
                Order::Asc => ids.iter().collect(),
                Order::Desc => ids.iter().rev().collect(),
            };
            let start = match after {
                None => 0,
                Some(cursor) => ordered.partition_point(|item| match order {
                    Order::Asc => item.as_str() <= cursor,
                    Order::Desc => item.as_str() >= cursor,
                }),
            };
            let end = (start + self.limit).min(ordered.len());
            let items: Vec<String> = ordered[start..end].iter().map(|s| (*s).clone()).collect();
            let after = (end < ordered.len())
                .then(|| items.last().cloned())
                .flatten();
            Ok(Answer::Page(Page { items, after }))
        }
    }

    fn items(walked: Walked<String>) -> Vec<String> {
        match walked {
            Walked::Items(items) => items,
            Walked::Missing(status) => panic!("missing: {status}"),
        }
    }

    /// How many answers a walk waited for in a row, on the paused clock.
    fn serial(started: Instant) -> u128 {
        started.elapsed().as_millis() / u128::from(ROUND_TRIP)
    }

    const SIZES: [usize; 12] = [0, 1, 2, 99, 100, 101, 199, 200, 201, 250, 1_000, 10_000];

    #[tokio::test(start_paused = true)]
    async fn both_ends_find_exactly_the_items_of_a_forward_walk() {
        for len in SIZES {
            let fake = Fake::new(len);
            let started = Instant::now();
            let plain = items(forward(&fake).await.unwrap());
            assert!(plain == fake.current(), "forward, {len} items");
            let plain_serial = serial(started);
            assert_eq!(
                plain_serial,
                len.div_ceil(100).max(1) as u128,
                "{len} items"
            );

            let started = Instant::now();
            let both = items(from_both_ends(&fake).await.unwrap());
            assert!(both == plain, "both ends, {len} items");
            // The first round trip reads 100 items, each later one 200; the walks know they
            // met only when a page overlaps the other walk.
            let bound = len.div_ceil(100).clamp(1, (len + 100) / 200 + 1);
            assert!(
                serial(started) <= bound as u128,
                "{len} items: {} answers in a row, at most {bound} expected",
                serial(started)
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn ten_thousand_items_take_half_the_round_trips() {
        let fake = Fake::new(10_000);
        let started = Instant::now();
        let both = items(from_both_ends(&fake).await.unwrap());
        assert!(both == fake.current());
        assert_eq!(serial(started), 51);
        // Both walks stop where they meet: no page is read twice but the one at the seam.
        assert!(fake.requests() <= 102, "{} requests", fake.requests());
    }

    #[tokio::test(start_paused = true)]
    async fn small_pages_meet_at_every_seam() {
        for len in 0..40 {
            for limit in [1, 2, 3, 7] {
                for latency in [[0, 0], [10, 30], [30, 10], [20, 20]] {
                    let fake = Fake {
                        limit,
                        latency,
                        ..Fake::new(len)
                    };
                    let both = items(from_both_ends(&fake).await.unwrap());
                    assert_eq!(
                        both,
                        fake.current(),
                        "{len} items, pages of {limit}, {latency:?} ms"
                    );
                }
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_list_changed_while_walking_is_finished_by_the_oldest_first_walk() {
        // After five round trips the asc walk has read up to item 499 and the desc walk down
        // to item 600, and items 450 to 649 are deleted: the next asc page starts at 650,
        // which the desc walk holds but is not where it stopped. The asc walk goes on alone,
        // as a plain walk would have: it keeps 450 to 499, read before they went, and returns
        // no item twice.
        let fake = Fake {
            change: Box::new(|number, ids| {
                if number == 9 {
                    ids.retain(|i| !(id(450)..id(650)).contains(i));
                }
            }),
            ..Fake::new(1_000)
        };
        let both = items(from_both_ends(&fake).await.unwrap());
        let plain: Vec<String> = (0..500).chain(650..1_000).map(id).collect();
        assert!(both == plain, "{} items", both.len());
        assert_eq!(
            fake.requests(),
            14,
            "11 from both ends, then 3 more asc pages"
        );

        // An item is added at the newest end after the desc walk started there: it is missed,
        // as a forward walk that had passed it would miss it, and nothing comes twice.
        let fake = Fake {
            change: Box::new(|number, ids| {
                if number == 3 {
                    ids.push(id(5_000));
                }
            }),
            latency: [30, 50],
            ..Fake::new(250)
        };
        let both = items(from_both_ends(&fake).await.unwrap());
        let before: Vec<String> = (0..250).map(id).collect();
        let mut after = before.clone();
        after.push(id(5_000));
        assert!(both == before || both == after, "{both:?}");

        // Items vanish near the middle on every other request: the walk still ends, in order,
        // and nothing comes twice.
        let fake = Fake {
            change: Box::new(|number, ids| {
                if ids.len() > 10 && number % 2 == 0 {
                    let middle = ids.len() / 2;
                    ids.remove(middle);
                }
            }),
            limit: 10,
            ..Fake::new(300)
        };
        let both = items(from_both_ends(&fake).await.unwrap());
        let mut sorted = both.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, both, "in order, no item twice");
        assert!(
            fake.current().iter().all(|i| both.contains(i)),
            "no item kept is missed"
        );
        assert!(fake.requests() < 200, "{} requests", fake.requests());
    }

    #[tokio::test(start_paused = true)]
    async fn a_server_that_ignores_the_order_is_still_read_in_full() {
        for len in [0, 50, 150, 1_000] {
            let fake = Fake {
                ignores_order: true,
                ..Fake::new(len)
            };
            let mut both = items(from_both_ends(&fake).await.unwrap());
            both.sort();
            assert_eq!(both, fake.current(), "{len} items");
        }
    }

    /// A server that repeats its cursor, or never ends.
    struct Endless {
        repeat: bool,
        requests: Mutex<usize>,
    }

    impl Pages for Endless {
        type Item = String;

        fn id(item: &String) -> &str {
            item
        }

        fn label(&self) -> &str {
            "GET /endless"
        }

        async fn page(&self, order: Order, _: Option<&str>) -> anyhow::Result<Answer<String>> {
            let n = {
                let mut requests = self.requests.lock().unwrap();
                *requests += 1;
                *requests
            };
            let key = if self.repeat {
                format!("{}-cursor", order.as_str())
            } else {
                format!("{}-{n}", order.as_str())
            };
            Ok(Answer::Page(Page {
                items: vec![key.clone()],
                after: Some(key),
            }))
        }
    }

    /// A server that answers the same one-item page, with the same cursor, whatever is asked.
    struct Stuck {
        requests: Mutex<usize>,
    }

    impl Pages for Stuck {
        type Item = String;

        fn id(item: &String) -> &str {
            item
        }

        fn label(&self) -> &str {
            "GET /stuck"
        }

        async fn page(&self, _: Order, _: Option<&str>) -> anyhow::Result<Answer<String>> {
            *self.requests.lock().unwrap() += 1;
            Ok(Answer::Page(Page {
                items: vec!["item".to_owned()],
                after: Some("cursor".to_owned()),
            }))
        }
    }

    #[tokio::test]
    async fn no_walk_runs_forever() {
        // Both walks see the same item, but the asc walk was told more follow it: they do not
        // meet, and the asc walk alone sees the cursor again.
        let stuck = Stuck {
            requests: Mutex::new(0),
        };
        let error = from_both_ends(&stuck).await.unwrap_err().to_string();
        assert!(error.contains("`cursor` twice"), "{error}");
        assert!(*stuck.requests.lock().unwrap() <= 3);

        let repeating = Endless {
            repeat: true,
            requests: Mutex::new(0),
        };
        let error = from_both_ends(&repeating).await.unwrap_err().to_string();
        assert!(error.contains("twice"), "{error}");
        let error = forward(&repeating).await.unwrap_err().to_string();
        assert!(error.contains("twice"), "{error}");

        let endless = Endless {
            repeat: false,
            requests: Mutex::new(0),
        };
        let error = from_both_ends(&endless).await.unwrap_err().to_string();
        assert!(error.contains("did not end"), "{error}");
        assert!(*endless.requests.lock().unwrap() <= MAX_PAGES + 1);
    }

    /// A server without the list endpoint.
    struct Absent;

    impl Pages for Absent {
        type Item = String;

        fn id(item: &String) -> &str {
            item
        }

        fn label(&self) -> &str {
            "GET /absent"
        }

        async fn page(&self, _: Order, _: Option<&str>) -> anyhow::Result<Answer<String>> {
            Ok(Answer::Missing(StatusCode::NOT_FOUND))
        }
    }

    #[tokio::test]
    async fn a_missing_endpoint_is_reported_as_such() {
        assert!(matches!(
            from_both_ends(&Absent).await.unwrap(),
            Walked::Missing(StatusCode::NOT_FOUND)
        ));
        assert!(matches!(
            forward(&Absent).await.unwrap(),
            Walked::Missing(StatusCode::NOT_FOUND)
        ));
    }
}

//! One function per section of the benchmark; each prints its figures and the bounds they are
//! compared with.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authkit_sync::emulator::{self, Emulator};
use authkit_sync::http::{self, Endpoint};
use authkit_sync::plan::{Action, Change};
use authkit_sync::provider::Writer as _;
use authkit_sync::provider::walk::{self, Answer, Order, Page, Pages, Walked};
use authkit_sync::provider::workos::{self, Api, WorkosWriter};
use authkit_sync::state::{Address, ResourceKind, Secret, Value};
use tokio::runtime::Runtime;

use crate::Options;
use crate::fixtures::{self, Credentials, Target};
use crate::measure::{self, Figures, Measure, Spec, ms};

/// The machine the figures come from.
pub fn machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    println!(
        "machine: {cores} cores, {model}, {memory} memory, Linux {}",
        kernel.trim()
    );
}

/// An emulator answering every WorkOS and Convex request after `latency`.
fn start(runtime: &Runtime, latency: Duration, state_file: Option<PathBuf>) -> Emulator {
    let config = emulator::Config {
        latency,
        state_file,
        ..Default::default()
    };
    runtime.block_on(Emulator::start(config)).expect("emulator")
}

fn target(emulator: &Emulator) -> Target {
    Target {
        url: emulator.url().to_owned(),
        api_key: emulator.api_key().to_owned(),
        client_id: emulator.client_id().to_owned(),
        deployment_url: emulator.deployment_url(),
        admin_key: emulator.admin_key().to_owned(),
    }
}

/// Back to the fresh state, through the emulator's control endpoint (which has no latency).
fn reset(runtime: &Runtime, emulator: &Emulator) {
    let url = format!("{}/_emulator/reset", emulator.url());
    let status = runtime.block_on(async {
        reqwest::Client::new()
            .post(url)
            .send()
            .await
            .expect("reset")
            .status()
    });
    assert!(status.is_success(), "reset answered {status}");
}

fn stop(runtime: &Runtime, emulator: Emulator) {
    runtime.block_on(emulator.shutdown()).expect("shutdown");
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// `runs` runs for the wall time and as many for the peak memory, alternating. `prepare` is
/// called before each run and gives the process to run, after undoing what a run changes.
fn repeat(runs: usize, scratch: &Path, mut prepare: impl FnMut() -> Spec) -> Figures {
    let mut walls = Vec::with_capacity(runs);
    let mut peaks = Vec::with_capacity(runs);
    for _ in 0..runs {
        walls.push(measure::run_expecting(
            &prepare(),
            scratch,
            Measure::Wall,
            &[0],
        ));
        peaks.push(measure::run_expecting(
            &prepare(),
            scratch,
            Measure::Memory,
            &[0],
        ));
    }
    Figures::of(&walls, &peaks)
}

/// Runs `spec` once, for what it leaves behind.
fn setup(spec: &Spec, scratch: &Path) {
    measure::run_expecting(spec, scratch, Measure::Wall, &[0]);
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// Start-up: `--version` and an offline `validate`, beside the WorkOS CLI (Node) printing its
/// version.
pub fn startup(options: &Options) {
    println!("== startup: whole process, no network");
    let scratch = scratch();
    let dir = scratch.path();
    let project = dir.join("project");
    fixtures::write_project(&project, &fixtures::typical_config());
    println!(
        "(peak memory is measured through a launcher; its floor, `true`, is {} MiB)",
        measure::mib(measure::floor(dir))
    );

    let version = repeat(options.runs, dir, || {
        let mut spec = Spec::new(fixtures::binary());
        spec.env_clear().arg("--version");
        spec
    });
    println!("authkit-sync --version        {version}");
    let validate = repeat(options.runs, dir, || {
        let mut spec = Spec::new(fixtures::binary());
        spec.env_clear()
            .env("NO_COLOR", "1")
            .arg("validate")
            .arg("--dir")
            .arg(&project);
        spec
    });
    println!("authkit-sync validate         {validate}");

    let cli = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/official-emulator/node_modules/workos/dist/bin.js");
    let node_works = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !cli.exists() || !node_works {
        println!(
            "node workos --version         skipped: needs node and `npm ci --prefix \
             tests/official-emulator`"
        );
        return;
    }
    let node = repeat(options.runs, dir, || {
        let mut spec = Spec::new("node");
        spec.arg(&cli).arg("--version");
        spec
    });
    println!("node workos --version         {node}");
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "ratio of medians, Node / authkit-sync --version: wall {:.1}x, peak memory {:.1}x; \
         Node / validate: wall {:.1}x, peak memory {:.1}x",
        ratio(node.wall.median, version.wall.median),
        node.rss.median as f64 / version.rss.median.max(1) as f64,
        ratio(node.wall.median, validate.wall.median),
        node.rss.median as f64 / validate.rss.median.max(1) as f64
    );
}

/// `plan` of a typical project after it was applied, for each place the key can come from.
pub fn plan(runtime: &Runtime, options: &Options) {
    let latency = options.latency;
    println!(
        "== plan: typical project (3 redirect URIs, 3 CORS origins, homepage, 4 .env.local \
         variables), latency L = {} ms",
        latency.as_millis()
    );
    let emulator = start(runtime, latency, None);
    let target = target(&emulator);
    let bound = latency.mul_f64(1.5) + Duration::from_millis(20);
    for credentials in [
        Credentials::Shell,
        Credentials::ConvexWithEnvLocal,
        Credentials::ConvexOnly,
    ] {
        reset(runtime, &emulator);
        let scratch = scratch();
        let project = scratch.path().join("project");
        fixtures::write_project(&project, &fixtures::typical_config());
        let dir = project.display().to_string();

        // Apply once with every credential at hand, so that .env.local and the deployment
        // hold them, then plan with only the ones this variant has.
        let mut apply = fixtures::command(&target, Credentials::Shell, &[]);
        apply
            .env("CONVEX_URL", &target.deployment_url)
            .env("CONVEX_DEPLOY_KEY", &target.admin_key)
            .args(["apply", "--auto-approve", "--dir", &dir]);
        setup(&apply, scratch.path());
        if credentials == Credentials::ConvexOnly {
            std::fs::remove_file(project.join(".env.local")).expect("remove .env.local");
        }

        let figures = repeat(options.runs, scratch.path(), || {
            fixtures::command(&target, credentials, &["plan", "--dir", &dir])
        });
        let (name, rounds) = match credentials {
            Credentials::Shell => ("key in the shell", 1),
            Credentials::ConvexWithEnvLocal => ("Convex project, key in .env.local", 1),
            Credentials::ConvexOnly => ("Convex project, key on the deployment only", 2),
        };
        let bound = bound + latency * (rounds - 1);
        println!("{name:<44} {figures}");
        println!(
            "{:<44} bound {}1.5 x L + 20 ms = {} ms: {}",
            "",
            if rounds > 1 {
                "L (the key's read) + "
            } else {
                ""
            },
            ms(bound),
            verdict(figures.wall.median <= bound)
        );
    }
    stop(runtime, emulator);
}

/// `apply` of 50 new redirect URIs, and the writer's concurrency swept in process.
pub fn apply(runtime: &Runtime, options: &Options) {
    let latency = options.latency;
    let count = 50;
    let concurrency = workos::DEFAULT_CONCURRENCY;
    println!(
        "== apply: {count} new redirect URIs, latency L = {} ms, writer concurrency {concurrency}",
        latency.as_millis()
    );
    let emulator = start(runtime, latency, None);
    let target = target(&emulator);
    let scratch = scratch();
    let project = scratch.path().join("project");
    fixtures::write_project(&project, &fixtures::redirect_uris_config(count));
    let dir = project.display().to_string();

    let figures = repeat(options.runs, scratch.path(), || {
        reset(runtime, &emulator);
        let args = ["apply", "--auto-approve", "--dir", &dir];
        fixtures::command(&target, Credentials::Shell, &args)
    });
    let waves = count.div_ceil(concurrency) as u32;
    let concurrency_bound = latency * waves;
    println!("authkit-sync apply --auto-approve   {figures}");
    println!(
        "bound by concurrency: ceil({count} / {concurrency}) x L = {} ms for the creates, \
         + 1 L for the list read = {} ms; 1.5 x that = {} ms: {}",
        ms(concurrency_bound),
        ms(concurrency_bound + latency),
        ms((concurrency_bound + latency).mul_f64(1.5)),
        verdict(figures.wall.median <= (concurrency_bound + latency).mul_f64(1.5))
    );
    println!(
        "bound by the rate limit: {} requests fit WorkOS's 6,000 per 60 s window, so 0 ms of \
         waiting; spread evenly at 100 per second they would take {} ms",
        count + 1,
        (count + 1) * 10
    );

    println!("writer concurrency swept in process ({count} creates, medians of 5):");
    for concurrency in [4, 8, 16, 32, 50] {
        let walls: Vec<Duration> = (0..5)
            .map(|_| {
                reset(runtime, &emulator);
                runtime.block_on(create_all(&emulator, count, concurrency))
            })
            .collect();
        let figures = Figures::of_durations(&walls);
        let waves = count.div_ceil(concurrency) as u32;
        println!(
            "  concurrency {concurrency:>2}: median {:>7} ms, ceil({count} / {concurrency}) x L = \
             {:>6} ms",
            ms(figures.wall.median),
            ms(latency * waves)
        );
    }
    stop(runtime, emulator);
}

/// Creates `count` redirect URIs through the writer the binary uses, and times it.
async fn create_all(emulator: &Emulator, count: usize, concurrency: usize) -> Duration {
    let client = Arc::new(http::Client::new(http::Policy::default()).expect("client"));
    let endpoint = Endpoint::parse("WORKOS_API_URL", emulator.url()).expect("endpoint");
    let api = Arc::new(Api::new(client, endpoint, Secret::new(emulator.api_key())));
    let writer = WorkosWriter::new(api, concurrency);
    let changes: Vec<Change> = (0..count)
        .map(|i| Change {
            address: Address::new(
                ResourceKind::RedirectUri,
                format!("http://localhost:3000/callback/{i}"),
            ),
            action: Action::Create,
            before: None,
            after: Some(Value::Present),
            reason: None,
            remote_id: None,
        })
        .collect();
    let started = Instant::now();
    let outcomes = writer.apply(changes).await;
    let wall = started.elapsed();
    assert!(outcomes.iter().all(|o| o.result.is_ok()), "every create");
    wall
}

/// `plan` over an environment with 10,000 redirect URIs, and both walks in process.
pub fn walk(runtime: &Runtime, options: &Options) {
    let latency = options.latency;
    let count = 10_000;
    let runs = options.runs.min(5);
    println!(
        "== walk: plan with {count} existing redirect URIs (100 pages of 100), latency L = {} ms",
        latency.as_millis()
    );
    let scratch = scratch();
    let state = scratch.path().join("state.json");
    fixtures::state_with_redirect_uris(&state, count);
    let emulator = start(runtime, latency, Some(state));
    let target = target(&emulator);
    let project = scratch.path().join("project");
    let declared: Vec<String> = (1..=3)
        .map(|n| format!("https://app{n}.example.com/callback"))
        .collect();
    let config = serde_json::json!({ "dev": { "configure": { "redirectUris": declared } } });
    fixtures::write_project(&project, &config);
    let dir = project.display().to_string();

    let figures = repeat(runs, scratch.path(), || {
        fixtures::command(&target, Credentials::Shell, &["plan", "--dir", &dir])
    });
    let rounds = (count as u32 + 1).div_ceil(200);
    println!("authkit-sync plan            {figures}");
    println!(
        "serial round trips: {rounds} from both ends ({} ms) against {} for a forward walk \
         ({} ms); max RSS under 50 MiB: {}",
        ms(latency * rounds),
        count.div_ceil(100),
        ms(latency * count.div_ceil(100) as u32),
        verdict(figures.rss.max < 50 * 1024)
    );

    let list = HttpList::new(&emulator);
    let time = |both: bool| {
        runtime.block_on(async {
            let started = Instant::now();
            let walked = if both {
                walk::from_both_ends(&list).await
            } else {
                walk::forward(&list).await
            };
            match walked.expect("walk") {
                Walked::Items(items) => assert_eq!(items.len(), count),
                Walked::Missing(status) => panic!("{status}"),
            }
            started.elapsed()
        })
    };
    let forward = time(false);
    let both = time(true);
    println!(
        "in process: forward walk {} ms, from both ends {} ms ({:.2}x)",
        ms(forward),
        ms(both),
        forward.as_secs_f64() / both.as_secs_f64()
    );
    stop(runtime, emulator);
}

/// The redirect URI list over plain HTTP, for timing the walks without the rest of a plan.
struct HttpList {
    client: reqwest::Client,
    url: String,
    key: String,
}

impl HttpList {
    fn new(emulator: &Emulator) -> HttpList {
        HttpList {
            client: reqwest::Client::new(),
            url: format!("{}/user_management/redirect_uris", emulator.url()),
            key: emulator.api_key().to_owned(),
        }
    }
}

impl Pages for HttpList {
    type Item = String;

    fn id(item: &String) -> &str {
        item
    }

    fn label(&self) -> &str {
        "GET /user_management/redirect_uris"
    }

    async fn page(&self, order: Order, after: Option<&str>) -> anyhow::Result<Answer<String>> {
        let mut query = vec![("limit", "100"), ("order", order.as_str())];
        if let Some(after) = after {
            query.push(("after", after));
        }
        let page: serde_json::Value = self
            .client
            .get(&self.url)
            .bearer_auth(&self.key)
            .query(&query)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let items = page["data"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let after = page["list_metadata"]["after"].as_str().map(str::to_owned);
        Ok(Answer::Page(Page { items, after }))
    }
}

/// A monorepo of `count` projects made by `config` (from a port), under `root/apps`.
fn monorepo(root: &Path, count: usize, config: impl Fn(u16) -> serde_json::Value) -> String {
    for i in 0..count {
        let port = 4000 + u16::try_from(i).expect("port");
        fixtures::write_project(&root.join(format!("apps/app{i:02}")), &config(port));
    }
    format!("{}/apps/*", root.display())
}

/// A typical project on `port` instead of 3000.
fn typical_on(port: u16) -> serde_json::Value {
    let text = fixtures::typical_config()
        .to_string()
        .replace("3000", &port.to_string());
    serde_json::from_str(&text).expect("json")
}

/// Many projects in one run, under one emulator and one API key: how the wall time grows with
/// the number of projects, and what a rate limit does to it.
pub fn projects(runtime: &Runtime, options: &Options) {
    let latency = options.latency;
    let runs = options.runs.min(10);
    let at_once = 16;
    println!(
        "== projects: plan --dir 'apps/*', small projects (1 redirect URI, 1 CORS origin, \
         homepage, 2 .env.local variables) sharing one emulator and one API key, latency L = {} \
         ms, {at_once} projects at once",
        latency.as_millis()
    );
    // The repeated runs of this section send more than WorkOS's 6,000 requests a minute; the
    // limit is lifted here so that each run is measured alone, and applied below on its own.
    let config = emulator::Config {
        latency,
        rate_limit: Some(u32::MAX),
        ..Default::default()
    };
    let emulator = runtime.block_on(Emulator::start(config)).expect("emulator");
    let target = target(&emulator);
    let mut one_project = Duration::ZERO;
    let plan =
        |glob: &str| fixtures::command(&target, Credentials::Shell, &["plan", "--dir", glob]);
    for count in [1, 10, 25, 50] {
        reset(runtime, &emulator);
        let scratch = scratch();
        let glob = monorepo(scratch.path(), count, fixtures::small_config);
        let apply = ["apply", "--auto-approve", "--dir", glob.as_str()];
        setup(
            &fixtures::command(&target, Credentials::Shell, &apply),
            scratch.path(),
        );
        let figures = repeat(runs, scratch.path(), || plan(&glob));
        if count == 1 {
            one_project = figures.wall.median;
        }
        let waves = count.div_ceil(at_once) as u32;
        println!("{count:>2} projects  {figures}");
        println!(
            "             ceil({count} / {at_once}) x L = {} ms; {count} x L = {} ms; {count} runs \
             of one project = {} ms; {} list reads (at a steady 100 per second: {} ms)",
            ms(latency * waves),
            ms(latency * count as u32),
            ms(one_project * count as u32),
            2 * count,
            ms(Duration::from_millis(20 * count as u64))
        );
    }

    // Typical projects: three URIs each make the shared lists 150 items long, two pages.
    reset(runtime, &emulator);
    let scratch = scratch();
    let glob = monorepo(scratch.path(), 50, typical_on);
    let apply = ["apply", "--auto-approve", "--dir", glob.as_str()];
    setup(
        &fixtures::command(&target, Credentials::Shell, &apply),
        scratch.path(),
    );
    let figures = repeat(runs, scratch.path(), || plan(&glob));
    println!("50 typical projects (lists of 150 items, 2 round trips each)  {figures}");
    stop(runtime, emulator);

    // The small projects again, with a rate limit their 100 reads exceed.
    let limit = 60;
    let config = emulator::Config {
        latency,
        rate_limit: Some(limit),
        ..Default::default()
    };
    let emulator = runtime.block_on(Emulator::start(config)).expect("emulator");
    let limited = self::target(&emulator);
    let root = self::scratch();
    let glob = monorepo(root.path(), 50, fixtures::small_config);
    let spec = fixtures::command(&limited, Credentials::Shell, &["plan", "--dir", &glob]);
    let run = measure::run(&spec, root.path(), Measure::Wall);
    println!(
        "50 small projects, rate limit {limit} requests per 60 s window: exit {}, wall {} ms \
         (100 reads need 2 windows: the second opens 60 s after the first request)",
        run.code,
        ms(run.wall)
    );
    stop(runtime, emulator);
}

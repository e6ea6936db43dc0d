//! Differential test of the `.env` reader and writer against the real JavaScript parsers.
//!
//! Generates random `.env`-like files (fixed seed), the files produced by `Document::set` on
//! them, and one `K=<encoded>` file per written value, then asks `tests/node/dotenv-oracle.mjs`
//! (dotenv 16.6.1 and @next/env 16.5.0) what each file means. Every file must read the same in
//! Rust as in dotenv, and every value we wrote must read back exactly in dotenv and Next.js.
//! Needs `npm ci --prefix tests/node`; without it the test fails rather than passing silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use authkit_sync::dotenv::{Document, EncodeErrorKind, encode_value};

/// A small deterministic generator (xorshift64*), so failures reproduce exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a [u8]]) -> &'a [u8] {
        items[self.below(items.len())]
    }
}

const KEYS: &[&[u8]] = &[
    b"A",
    b"B",
    b"K",
    b"a.b",
    b"c-d",
    b"_x",
    b"9LIVES",
    b"export",
    b"exportA",
    b"__proto__",
    b"A_B1",
    b"PATH",
    b"x",
    b"NODE_ENV",
];

const SEPARATORS: &[&[u8]] = &[
    b"=", b"=", b"=", b" = ", b"=\t", b":", b": ", b":\t", b"==", b" :", b"=\n", b":\n", b" ",
];

/// Pieces of values, chosen to hit every rule of the regex: quotes, escapes, comments,
/// JavaScript whitespace and line terminators, and bytes that are not valid UTF-8.
const ATOMS: &[&[u8]] = &[
    b"word",
    b"x",
    b"1",
    b" ",
    b"  ",
    b"\t",
    b"'",
    b"\"",
    b"`",
    b"\\'",
    b"\\\"",
    b"\\`",
    b"\\n",
    b"\\r",
    b"\\\\",
    b"\\",
    b"#",
    b" #",
    b"# c",
    b"=",
    b":",
    b"$HOME",
    b"${X}",
    b"\\$",
    b"\n",
    b"\r",
    b"\r\n",
    b"export ",
    "\u{e9}".as_bytes(),
    "\u{2713}".as_bytes(),
    "日本".as_bytes(),
    "\u{a0}".as_bytes(),
    "\u{2028}".as_bytes(),
    "\u{2029}".as_bytes(),
    "\u{feff}".as_bytes(),
    "\u{3000}".as_bytes(),
    "\u{1680}".as_bytes(),
    "\u{200b}".as_bytes(),
    "\u{180e}".as_bytes(),
    "\u{85}".as_bytes(),
    "\u{b}".as_bytes(),
    "\u{c}".as_bytes(),
    b"\xff",
    b"\xe2\x82",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xf0\x9f\x98",
    b"\x00",
];

const DENSE: &[&[u8]] = &[
    b"A",
    b"A",
    b"=",
    b"=",
    b"'",
    b"'",
    b"\\",
    b"\\",
    b"\n",
    b"\n",
    b" ",
    b"#",
    b"\"",
    b"`",
    b":",
    b"export ",
    b"\r",
    "\u{2028}".as_bytes(),
    b"x",
];

/// Assignments with quotes, escaped quotes and line breaks, where the closing quote matters.
const QUOTEY: &[&[u8]] = &[
    b"A=", b"A=", b"'", b"'", b"\\'", b"\\'", b"\\", b"x", b" ", b"\n", b"\n", b"#", b"\"", b"\\\"",
];

const LINE_BREAKS: &[&[u8]] = &[b"\n", b"\n", b"\r\n", b"\r", "\u{2028}".as_bytes()];

fn random_value(rng: &mut Rng, out: &mut Vec<u8>) {
    for _ in 0..rng.below(6) {
        out.extend_from_slice(rng.pick(ATOMS));
    }
}

fn random_env(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.chance(10) {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    if rng.chance(8) {
        // Raw bytes, biased towards the characters the regex cares about.
        for _ in 0..rng.below(60) {
            const SPECIAL: &[u8] = b"A=:'\"`#\\ \n\r";
            let b = if rng.chance(50) {
                rng.next() as u8
            } else {
                SPECIAL[rng.below(SPECIAL.len())]
            };
            out.push(b);
        }
        return out;
    }
    if rng.chance(40) {
        // Dense strings over the regex's special characters: many quotes and escapes per
        // line exercise how backtracking picks the closing quote.
        let alphabet = if rng.chance(50) { DENSE } else { QUOTEY };
        for _ in 0..rng.below(50) {
            out.extend_from_slice(rng.pick(alphabet));
        }
        return out;
    }
    let lines = rng.below(10);
    for i in 0..lines {
        match rng.below(10) {
            0 => {}
            1 => out.extend_from_slice(rng.pick(&[b" ", b"\t", b"# comment", b"#A=1", b"junk"])),
            2 => random_value(rng, &mut out),
            _ => {
                if rng.chance(15) {
                    out.extend_from_slice(rng.pick(&[b" ", b"\t", b"\n"]));
                }
                if rng.chance(15) {
                    out.extend_from_slice(rng.pick(&[b"export ", b"export  ", b"export\t"]));
                }
                out.extend_from_slice(rng.pick(KEYS));
                out.extend_from_slice(rng.pick(SEPARATORS));
                random_value(rng, &mut out);
                if rng.chance(20) {
                    out.extend_from_slice(rng.pick(&[b" # note", b"#x", b"  ", b"\t# t"]));
                }
            }
        }
        if i + 1 < lines || rng.chance(70) {
            out.extend_from_slice(rng.pick(LINE_BREAKS));
        }
    }
    out
}

/// Random strings for `set` and `encode_value`, mostly writable, some not.
fn random_string(rng: &mut Rng) -> String {
    const CHARS: &[&str] = &[
        "a",
        "b",
        "Z",
        "0",
        " ",
        "\t",
        "'",
        "\"",
        "`",
        "\\",
        "n",
        "r",
        "#",
        "=",
        ":",
        "\n",
        "\r",
        "\u{e9}",
        "\u{2713}",
        "\u{65e5}",
        "\u{a0}",
        "\u{2028}",
        "\u{2029}",
        "\u{feff}",
        "\u{0}",
        "$",
        "{",
        "}",
        "\u{1f600}",
        "/",
        "?",
        "&",
    ];
    let len = rng.below(9);
    (0..len)
        .map(|_| {
            // `$` is refused anyway; keep it rare so that most values get written.
            let c = CHARS[rng.below(CHARS.len())];
            if c == "$" && rng.chance(70) { "x" } else { c }
        })
        .collect()
}

const SET_KEYS: &[&str] = &["A", "B", "K", "_x", "A_B1", "NEW", "PATH", "export"];

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// What the oracle said about one file.
struct Views {
    dotenv: BTreeMap<String, String>,
    next: BTreeMap<String, String>,
}

fn run_oracle(files: &[PathBuf]) -> BTreeMap<String, Views> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        root.join("tests/node/node_modules/dotenv").is_dir()
            && root.join("tests/node/node_modules/@next/env").is_dir(),
        "the JavaScript oracle is not installed: run `npm ci --prefix tests/node` in {}",
        root.display()
    );
    let mut cmd = Command::new("node");
    cmd.current_dir(root)
        .arg("tests/node/dotenv-oracle.mjs")
        .args(files);
    // A clean environment, so that no variable of ours shadows a key in Next.js's view.
    cmd.env_clear();
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        cmd.env("TMPDIR", tmp);
    }
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run `node` (Node.js 18+ is needed): {e}"));
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("oracle JSON");
    let as_map = |v: &serde_json::Value| -> BTreeMap<String, String> {
        v.as_object()
            .expect("an object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().expect("a string value").to_owned()))
            .collect()
    };
    json.as_object()
        .expect("an object keyed by file")
        .iter()
        .map(|(file, views)| {
            let views = Views {
                dotenv: as_map(&views["dotenv"]),
                next: as_map(&views["next"]),
            };
            (file.clone(), views)
        })
        .collect()
}

/// A file to check, and the value `K`-style key it must read back, if we wrote one.
struct Case {
    path: PathBuf,
    bytes: Vec<u8>,
    written: Option<(String, String)>,
}

#[test]
fn rust_reads_like_dotenv_and_written_values_read_back() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Both can be overridden to fuzz longer locally; the defaults keep CI deterministic.
    let seed = env_number("DOTENV_ORACLE_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15);
    let count = env_number("DOTENV_ORACLE_COUNT").map_or(300, |n| n as usize);
    let mut rng = Rng(seed | 1);
    let mut cases: Vec<Case> = Vec::new();
    let add = |cases: &mut Vec<Case>, name: String, bytes: Vec<u8>, written| {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write case");
        cases.push(Case {
            path,
            bytes,
            written,
        });
    };

    let mut set_ok = 0;
    for i in 0..count {
        let bytes = random_env(&mut rng);
        // Edit a copy of each random file and check the edit with the oracle too.
        let mut doc = Document::parse(&bytes);
        let key = SET_KEYS[rng.below(SET_KEYS.len())];
        let value = random_string(&mut rng);
        if doc.set(key, &value).is_ok() {
            set_ok += 1;
            let written = Some((key.to_owned(), value));
            add(
                &mut cases,
                format!("set-{i}.env"),
                doc.as_bytes().to_vec(),
                written,
            );
        }
        add(&mut cases, format!("random-{i}.env"), bytes, None);
    }

    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dotenv-corpus");
    let listed: Vec<String> =
        serde_json::from_slice(&std::fs::read(corpus.join("values.json")).expect("values.json"))
            .expect("a list of strings");
    let random: Vec<String> = (0..count).map(|_| random_string(&mut rng)).collect();
    let mut encoded = 0;
    for (i, value) in listed.iter().chain(&random).enumerate() {
        match encode_value(value) {
            Ok(enc) => {
                encoded += 1;
                let bytes = format!("K={enc}\n").into_bytes();
                add(
                    &mut cases,
                    format!("value-{i}.env"),
                    bytes,
                    Some(("K".into(), value.clone())),
                );
            }
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    EncodeErrorKind::Dollar
                        | EncodeErrorKind::NulCharacter
                        | EncodeErrorKind::Unquotable
                ),
                "{value:?}: {e}"
            ),
        }
    }
    // Guard against a generator or writer that quietly stops exercising anything.
    assert!(set_ok > count / 2, "only {set_ok} edits succeeded");
    assert!(
        encoded > count * 3 / 4,
        "only {encoded} values were encodable"
    );

    let paths: Vec<PathBuf> = cases.iter().map(|c| c.path.clone()).collect();
    let oracle = run_oracle(&paths);
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.path.to_string_lossy().into_owned();
        let Some(views) = oracle.get(&name) else {
            failures.push(format!("{name}: missing from the oracle output"));
            continue;
        };
        let ours: BTreeMap<String, String> =
            Document::parse(&case.bytes).vars().into_iter().collect();
        if ours != views.dotenv {
            failures.push(format!(
                "{name}: {:?}\n  rust:   {ours:?}\n  dotenv: {:?}",
                String::from_utf8_lossy(&case.bytes),
                views.dotenv
            ));
        }
        if let Some((key, value)) = &case.written {
            for (parser, map) in [("dotenv", &views.dotenv), ("next", &views.next)] {
                if map.get(key) != Some(value) {
                    failures.push(format!(
                        "{name}: {parser} reads {key} as {:?}, wrote {value:?} in {:?}",
                        map.get(key),
                        String::from_utf8_lossy(&case.bytes)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files disagree with the JavaScript parsers:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(15)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "oracle agreed on {} files ({set_ok} edited by set, {encoded} encoded values)",
        cases.len()
    );
}

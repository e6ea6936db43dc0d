//! Unit tests for the `.env` document: the shared corpus, edits, diagnostics and encoding.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::*;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/dotenv-corpus")
}

fn vars_map(doc: &Document) -> BTreeMap<String, String> {
    doc.vars().into_iter().collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn corpus_cases_read_like_dotenv() {
    let dir = corpus_dir();
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let cases = expected.as_object().unwrap();
    assert_eq!(cases.len(), 30, "every corpus case has an expectation");
    for (name, views) in cases {
        let bytes = std::fs::read(dir.join("cases").join(name)).unwrap();
        let doc = Document::parse(&bytes);
        assert_eq!(doc.as_bytes(), &bytes[..], "{name}: round trip");
        let want: BTreeMap<String, String> = views["dotenv"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(vars_map(&doc), want, "{name}");
    }
}

#[test]
fn reading_details() {
    let read = |s: &str| vars_map(&Document::parse(s.as_bytes()));
    assert_eq!(
        read("A=abc#def\nB==double\n"),
        pairs(&[("A", "abc"), ("B", "=double")])
    );
    assert_eq!(read("A: 1\nB:two\n"), pairs(&[("A", "1")]));
    assert_eq!(read("export  B=2\n"), pairs(&[("B", "2")]));
    assert_eq!(read("A=\n'x'\n"), pairs(&[("A", "x")]));
    assert_eq!(read("A:\nfoo\n"), pairs(&[("A", "foo")]));
    assert_eq!(read("export =1\n"), pairs(&[("export", "1")]));
    assert_eq!(read("A='a' '\n"), pairs(&[("A", "a' ")]));
    assert_eq!(read("A=x\u{2028}'y'\n"), pairs(&[("A", "x\u{2028}y")]));
    assert_eq!(read("A='x\nB='\n"), pairs(&[("A", "x\nB=")]));
    // The escaped quote is handed back to close the value when nothing later can.
    assert_eq!(
        read("A='abc\\'\nB='x'\n"),
        pairs(&[("A", "abc\\"), ("B", "x")])
    );
    // Multi-line values show which quote closed them: the escaped quote only when no later
    // unescaped quote can, and never while an unescaped one can.
    assert_eq!(
        read("A='x\ny\\'\nB='b'\n"),
        pairs(&[("A", "x\ny\\"), ("B", "b")])
    );
    assert_eq!(read("A='a\\'\nB=1'\n"), pairs(&[("A", "a\\'\nB=1")]));
    assert_eq!(
        read("A=\"a\\\"\\n\"\nB=\"\n"),
        pairs(&[("A", "a\\\"\n"), ("B", "\"")])
    );
    assert_eq!(read("__proto__=x\nB=1\n"), pairs(&[("B", "1")]));
    assert_eq!(
        read("A=1\rB=\"2\\r\"\r"),
        pairs(&[("A", "1"), ("B", "2\r")])
    );
    assert_eq!(read("\u{feff}A=1"), pairs(&[("A", "1")]));
}

#[test]
fn entries_keep_duplicates_and_lines() {
    let doc = Document::parse(b"# c\nA=1\r\nB='x\ny'\nA=2\n");
    let seen: Vec<(&str, &str, usize, Quote)> = doc
        .entries()
        .iter()
        .map(|e| (e.key.as_str(), e.value.as_str(), e.line, e.quote))
        .collect();
    assert_eq!(
        seen,
        [
            ("A", "1", 2, Quote::None),
            ("B", "x\ny", 3, Quote::Single),
            ("A", "2", 5, Quote::None)
        ]
    );
    assert_eq!(doc.get("A").map(|e| e.line), Some(5));
    assert_eq!(
        doc.vars(),
        [("A".into(), "2".into()), ("B".into(), "x\ny".into())]
    );
    assert_eq!(
        doc.line_ending(),
        "\n",
        "the first line break is a plain LF"
    );
}

#[test]
fn edit_in_crlf_file_touches_only_the_value() {
    let before = "\u{feff}# top\r\nexport A=1 # one\r\n\r\nB = 'old value' # keep me\r\nC=3";
    let mut doc = Document::parse(before.as_bytes());
    assert_eq!(doc.line_ending(), "\r\n");
    doc.set("B", "new value").unwrap();
    let after = "\u{feff}# top\r\nexport A=1 # one\r\n\r\nB = new value # keep me\r\nC=3";
    assert_eq!(String::from_utf8_lossy(doc.as_bytes()), after);
    doc.set("A", "it's").unwrap();
    let after = "\u{feff}# top\r\nexport A=it's # one\r\n\r\nB = new value # keep me\r\nC=3";
    assert_eq!(String::from_utf8_lossy(doc.as_bytes()), after);
    assert_eq!(
        vars_map(&doc),
        pairs(&[("A", "it's"), ("B", "new value"), ("C", "3")])
    );
}

#[test]
fn append_to_file_without_final_newline() {
    let mut doc = Document::parse(b"A=1\r\nB=2");
    doc.set("C", "three").unwrap();
    assert_eq!(doc.as_bytes(), b"A=1\r\nB=2\r\nC=three\r\n");
    let mut doc = Document::parse(b"A=1");
    doc.append_comment("note").unwrap();
    doc.append_comment("").unwrap();
    assert_eq!(doc.as_bytes(), b"A=1\n# note\n#\n");
}

#[test]
fn append_to_empty_file() {
    let mut doc = Document::parse(b"");
    doc.set("A", "").unwrap();
    doc.set("B", "x y").unwrap();
    assert_eq!(doc.as_bytes(), b"A=\nB=x y\n");
    assert_eq!(vars_map(&doc), pairs(&[("A", ""), ("B", "x y")]));
}

#[test]
fn duplicates_update_the_last() {
    let mut doc = Document::parse(b"A=1\nB=x\nA=2 # last\n");
    doc.set("A", "3").unwrap();
    assert_eq!(doc.as_bytes(), b"A=1\nB=x\nA=3 # last\n");
    assert_eq!(doc.entries()[0].value, "1");
    assert_eq!(doc.get("A").unwrap().value, "3");
}

#[test]
fn set_replaces_a_multiline_value() {
    let mut doc = Document::parse(b"A=\"one\ntwo\nthree\"\nB=after\n");
    assert_eq!(doc.get("A").unwrap().value, "one\ntwo\nthree");
    doc.set("A", "x\ny").unwrap();
    assert_eq!(doc.as_bytes(), b"A='x\ny'\nB=after\n");
    doc.set("A", "single").unwrap();
    assert_eq!(doc.as_bytes(), b"A=single\nB=after\n");
    // In a CRLF file the line break inside single quotes follows the file.
    let mut doc = Document::parse(b"A=1\r\n");
    doc.set("B", "x\ny").unwrap();
    assert_eq!(doc.as_bytes(), b"A=1\r\nB='x\r\ny'\r\n");
    assert_eq!(doc.get("B").unwrap().value, "x\ny");
}

#[test]
fn bom_is_kept() {
    let mut doc = Document::parse("\u{feff}A=1\n".as_bytes());
    assert_eq!(doc.get("A").unwrap().value, "1");
    doc.set("A", "2").unwrap();
    doc.set("B", "3").unwrap();
    assert_eq!(doc.as_bytes(), "\u{feff}A=2\nB=3\n".as_bytes());
}

#[test]
fn set_tries_other_quoting_when_the_context_needs_it() {
    // Unquoted, the empty value would let the next line's quoted text become A's value.
    let mut doc = Document::parse(b"A=1\n'q'\n");
    doc.set("A", "").unwrap();
    assert_eq!(doc.as_bytes(), b"A=''\n'q'\n");
    assert_eq!(doc.get("A").unwrap().value, "");
}

#[test]
fn set_refuses_edits_that_change_other_entries() {
    // A's unclosed quote is closed by any later quote that ends a line, and each way of
    // writing this value has one (the backtick form keeps the raw line break).
    let before = b"A='open\n".to_vec();
    let mut doc = Document::parse(&before);
    let err = doc.set("B", "x'\n\"").unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::WouldChangeOtherEntries);
    assert!(err.to_string().contains("`A`"), "{err}");
    assert_eq!(doc.as_bytes(), &before[..], "unchanged after an error");
    let err = doc.append_comment("quote'").unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::WouldChangeOtherEntries);
    assert_eq!(doc.as_bytes(), &before[..]);
    // `A:` at the very end is no entry, but the line break added before a comment makes it one.
    let mut doc = Document::parse(b"A:");
    assert!(doc.vars().is_empty());
    let err = doc.append_comment("note").unwrap_err();
    assert!(err.to_string().contains("`A`"), "{err}");
    assert_eq!(doc.as_bytes(), b"A:");
}

#[test]
fn set_rejects_bad_keys_values_and_comments() {
    let mut doc = Document::parse(b"A=1\n");
    for key in ["", "1A", "A-B", "a.b", "É", "A B"] {
        let err = doc.set(key, "x").unwrap_err();
        assert_eq!(err.kind(), EncodeErrorKind::InvalidKey, "{key}");
    }
    assert_eq!(
        doc.set("__proto__", "x").unwrap_err().kind(),
        EncodeErrorKind::ReservedKey
    );
    let err = doc.set("A", "cost $5").unwrap_err();
    assert_eq!(err.kind(), EncodeErrorKind::Dollar);
    assert!(err.to_string().contains("`$`") && err.to_string().contains("by hand"));
    for text in ["a\nb", "a\rb", "a\u{2028}b"] {
        let err = doc.append_comment(text).unwrap_err();
        assert_eq!(err.kind(), EncodeErrorKind::LineBreakInComment);
    }
    assert_eq!(doc.as_bytes(), b"A=1\n");
}

#[test]
fn diagnostics_for_ignored_lines_and_quotes() {
    let doc = Document::parse(
        b"just text\nA=1\n# comment\n  \n=nokey\nB=\"open\nC='q' tail\nD=`a\\`\n9=ok\n",
    );
    assert_eq!(
        doc.diagnostics(),
        [
            Diagnostic::NotAnAssignment { line: 1 },
            Diagnostic::NotAnAssignment { line: 5 },
            Diagnostic::UnterminatedQuote {
                line: 6,
                key: "B".into()
            },
            Diagnostic::TextAfterQuote {
                line: 7,
                key: "C".into()
            },
        ]
    );
    // `D` is closed by handing back its escaped backtick, so it is a quoted value.
    assert_eq!(doc.get("D").unwrap().value, "a\\");
    assert!(Document::parse(b"# only\n\nA=1\n").diagnostics().is_empty());
    // A value read from the next line leaves nothing uncovered.
    assert!(Document::parse(b"A:\nfoo\n").diagnostics().is_empty());
}

#[test]
fn encode_values_from_the_corpus() {
    let raw = std::fs::read(corpus_dir().join("values.json")).unwrap();
    let values: Vec<String> = serde_json::from_slice(&raw).unwrap();
    let mut written = 0;
    for value in &values {
        match encode_value(value) {
            Ok(enc) => {
                written += 1;
                let doc = Document::parse(format!("K={enc}\n").as_bytes());
                assert_eq!(doc.get("K").unwrap().value, *value, "{enc}");
            }
            Err(err) => assert_eq!(err.kind(), EncodeErrorKind::Dollar, "{value:?}: {err}"),
        }
    }
    assert_eq!(
        written,
        values.len() - 2,
        "only the two `$` values are refused"
    );
}

#[test]
fn encode_value_choices() {
    let enc = |v: &str| encode_value(v).map_err(|e| e.kind());
    assert_eq!(enc("plain").as_deref(), Ok("plain"));
    assert_eq!(enc("").as_deref(), Ok(""));
    assert_eq!(enc(" padded ").as_deref(), Ok("' padded '"));
    assert_eq!(enc("a#b").as_deref(), Ok("'a#b'"));
    assert_eq!(enc("it's #1").as_deref(), Ok("\"it's #1\""));
    assert_eq!(enc("it's\r\n").as_deref(), Ok("\"it's\\r\\n\""));
    assert_eq!(enc("'\"\\n").as_deref(), Ok("`'\"\\n`"));
    assert_eq!(enc("#\\").as_deref(), Err(&EncodeErrorKind::Unquotable));
    let err = encode_value("'\"`").unwrap_err();
    assert!(err.to_string().contains("backtick"), "{err}");
    assert!(is_valid_key("_A1") && is_valid_key("a") && !is_valid_key("1a"));
}

#[test]
fn contains_text_searches_raw_bytes() {
    let doc = Document::parse(b"# secret: hunter2\nA=1\n");
    assert!(doc.contains_text("hunter2"));
    assert!(doc.contains_text(""));
    assert!(!doc.contains_text("A=2"));
}

#[test]
fn invalid_utf8_decodes_like_node() {
    let doc = Document::parse(b"A=\xff\xfe\xe2\x82\nB=\xf0\x9f\x98\x80\n");
    assert_eq!(doc.get("A").unwrap().value, "\u{fffd}\u{fffd}\u{fffd}");
    assert_eq!(doc.get("B").unwrap().value, "\u{1f600}");
    let mut doc = doc;
    doc.set("B", "ok").unwrap();
    assert_eq!(doc.as_bytes(), b"A=\xff\xfe\xe2\x82\nB=ok\n");
}

/// Inputs built to make a backtracking matcher blow up must still parse quickly.
#[test]
fn pathological_input_parses_fast() {
    let mut inputs: Vec<Vec<u8>> = vec![
        "A='\n".repeat(100_000).into_bytes(),
        format!("A='{}", "\\'".repeat(500_000)).into_bytes(),
        format!("{}\n", "A='\\'\\'\\' x\n".repeat(80_000)).into_bytes(),
        format!("{}garbage", "\n".repeat(1_000_000)).into_bytes(),
        format!("A=\"{}", "\\\"#\"\n".repeat(200_000)).into_bytes(),
        "export \n".repeat(120_000).into_bytes(),
        format!("A={}", " ".repeat(1_000_000)).into_bytes(),
        "'#".repeat(500_000).into_bytes(),
        "A: B C\n".repeat(150_000).into_bytes(),
    ];
    inputs.push(
        (0..60_000)
            .map(|i| format!("K{i}=`\\`\\`\n"))
            .collect::<String>()
            .into_bytes(),
    );
    for input in &inputs {
        assert!(input.len() >= 400_000);
        let started = Instant::now();
        let doc = Document::parse(input);
        let took = started.elapsed();
        assert_eq!(doc.as_bytes(), &input[..]);
        // A quadratic matcher needs minutes here; even an unoptimised build needs well under
        // a second, so this leaves room for a busy machine.
        assert!(
            took < Duration::from_secs(3),
            "{took:?} for {:?}",
            &input[..20]
        );
    }
}

//! Property tests for the lossless `.env` document: any bytes round-trip unchanged, `set`
//! edits only what it says, and every encoded value reads back exactly.

use std::collections::BTreeMap;

use authkit_sync::dotenv::{Document, encode_value, is_valid_key};
use proptest::prelude::*;

/// Pieces of `.env`-like text covering every rule of dotenv's regex.
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    let special: Vec<&'static [u8]> = vec![
        b"export ",
        b"export\t",
        b"=",
        b" = ",
        b": ",
        b":",
        b"'",
        b"\"",
        b"`",
        b"\\'",
        b"\\\"",
        b"\\`",
        b"\\n",
        b"\\",
        b"#",
        b" # c",
        b"\n",
        b"\n",
        b"\r\n",
        b"\r",
        b" ",
        b"\t",
        b"$X",
        "\u{feff}".as_bytes(),
        "é✓".as_bytes(),
        "\u{2028}".as_bytes(),
        "\u{a0}".as_bytes(),
        b"\xff",
        b"\xe2\x82",
    ];
    prop_oneof![
        3 => prop::sample::select(special).prop_map(|b| b.to_vec()),
        2 => "[A-Za-z_][A-Za-z0-9_.-]{0,4}".prop_map(String::into_bytes),
        1 => "[a-z0-9 ]{0,6}".prop_map(String::into_bytes),
    ]
}

/// Text that looks like a `.env` file, quirks included (BOM, CR, no final newline, ...).
fn env_like() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(fragment(), 0..40).prop_map(|parts| parts.concat())
}

/// Either `.env`-like text or raw bytes.
fn any_document() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![3 => env_like(), 1 => prop::collection::vec(any::<u8>(), 0..200)]
}

/// Strings rich in the characters that decide quoting, plus arbitrary Unicode.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z '\"`\\\\#=:nr\n\r\t\u{a0}\u{2028}\u{2029}\u{feff}é$]{0,10}",
        1 => any::<String>(),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["A", "B", "K", "_x", "export", "exportA"]).prop_map(String::from),
        "[A-Za-z_][A-Za-z0-9_]{0,3}",
    ]
}

fn vars(doc: &Document) -> BTreeMap<String, String> {
    doc.vars().into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let doc = Document::parse(&bytes);
        prop_assert_eq!(doc.as_bytes(), &bytes[..]);
    }

    #[test]
    fn env_like_text_round_trips(bytes in env_like()) {
        let doc = Document::parse(&bytes);
        prop_assert_eq!(doc.as_bytes(), &bytes[..]);
        let mut previous_end = 0;
        for entry in doc.entries() {
            let (span, value) = (entry.span(), entry.value_span());
            prop_assert!(previous_end <= span.start && span.end <= bytes.len());
            prop_assert!(span.start <= value.start && value.end <= span.end);
            previous_end = span.end;
        }
        for (key, value) in doc.vars() {
            prop_assert_eq!(&doc.get(&key).map(|e| e.value.clone()), &Some(value));
        }
    }

    #[test]
    fn set_changes_only_its_value(
        bytes in any_document(),
        key in prop_oneof![4 => key(), 1 => any::<String>()],
        value in value(),
    ) {
        let mut doc = Document::parse(&bytes);
        let before = vars(&doc);
        let edited_span = doc.get(&key).map(|e| e.value_span());
        match doc.set(&key, &value) {
            Ok(()) => {
                prop_assert!(is_valid_key(&key));
                prop_assert_eq!(doc.get(&key).map(|e| e.value.as_str()), Some(value.as_str()));
                let mut expected = before;
                expected.insert(key.clone(), value.clone());
                prop_assert_eq!(vars(&doc), expected);
                let after = doc.as_bytes();
                match edited_span {
                    Some(span) => {
                        prop_assert!(after.starts_with(&bytes[..span.start]));
                        prop_assert!(after.ends_with(&bytes[span.end..]));
                        prop_assert!(after.len() >= bytes.len() - span.len());
                    }
                    None => prop_assert!(after.starts_with(&bytes)),
                }
                // The document is left consistent with a fresh parse of its bytes.
                prop_assert_eq!(&Document::parse(after), &doc);
            }
            Err(_) => prop_assert_eq!(doc.as_bytes(), &bytes[..]),
        }
    }

    /// On files this writer produced, every valid key and encodable value can be set.
    #[test]
    fn set_always_succeeds_on_written_files(
        lines in prop::collection::vec((key(), value()), 0..8),
        crlf in any::<bool>(),
        key in key(),
        value in value(),
    ) {
        let mut doc = Document::parse(if crlf { b"# written\r\n" } else { b"" });
        for (k, v) in &lines {
            if encode_value(v).is_ok() {
                prop_assert!(doc.set(k, v).is_ok(), "{:?}={:?}", k, v);
            }
        }
        if encode_value(&value).is_ok() && is_valid_key(&key) {
            prop_assert!(doc.set(&key, &value).is_ok());
            prop_assert_eq!(doc.get(&key).map(|e| e.value.as_str()), Some(value.as_str()));
        }
        prop_assert_eq!(doc.line_ending(), if crlf { "\r\n" } else { "\n" });
    }

    #[test]
    fn encoded_values_read_back(value in value()) {
        if let Ok(enc) = encode_value(&value) {
            prop_assert!(!value.contains('$'));
            let doc = Document::parse(format!("K={enc}\n").as_bytes());
            prop_assert_eq!(doc.get("K").map(|e| e.value.as_str()), Some(value.as_str()));
            prop_assert_eq!(doc.vars().len(), 1);
            // Also between other lines and before a trailing comment.
            let text = format!("# c\nexport K = {enc} # note\nZ='z'\n");
            let doc = Document::parse(text.as_bytes());
            prop_assert_eq!(doc.get("K").map(|e| e.value.as_str()), Some(value.as_str()));
            prop_assert_eq!(doc.get("Z").map(|e| e.value.as_str()), Some("z"));
        }
    }
}

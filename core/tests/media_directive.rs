//! `MEDIA:` line parsing (`krill_core::media::directive`): properties over
//! generated replies (directives come out in order, every other line stays,
//! nothing panics) and the documented cases.

use krill_core::media::{extract_media, MediaRef};
use proptest::prelude::*;

/// A text line that is not a directive (never starts with `MEDIA:` after
/// trimming, never opens a fence).
fn text_line() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,:/_-]{0,30}".prop_filter("not a directive or fence", |l| {
        !l.trim_start().starts_with("MEDIA:")
    })
}

fn target() -> impl Strategy<Value = (String, MediaRef)> {
    prop_oneof![
        "[a-z0-9_/-]{1,20}\\.png".prop_map(|p| (p.clone(), MediaRef::Local(p))),
        "/[a-z0-9_/]{1,20}".prop_map(|p| (p.clone(), MediaRef::Local(p))),
        "[a-z0-9]{1,10}\\.example/[a-z0-9]{1,10}".prop_map(|p| (
            format!("https://{p}"),
            MediaRef::Url(format!("https://{p}"))
        )),
        "[a-z0-9]{1,10}".prop_map(|p| (
            format!("http://{p}"),
            MediaRef::Unsupported(format!("http://{p}"))
        )),
    ]
}

proptest! {
    #[test]
    fn directives_come_out_in_order_and_text_stays(
        lines in proptest::collection::vec(
            prop_oneof![
                text_line().prop_map(|l| (l, None)),
                (target(), "[ \t]{0,3}").prop_map(|((raw, parsed), pad)| (format!("{pad}MEDIA: {raw}{pad}"), Some(parsed))),
            ],
            0..12,
        )
    ) {
        let reply = lines.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join("\n");
        let out = extract_media(&reply);
        let expected: Vec<MediaRef> = lines.iter().filter_map(|(_, m)| m.clone()).collect();
        prop_assert_eq!(&out.media, &expected);
        if expected.is_empty() {
            prop_assert_eq!(out.text, reply);
        } else {
            let kept = lines.iter().filter(|(_, m)| m.is_none()).map(|(l, _)| l.as_str()).collect::<Vec<_>>().join("\n");
            let kept = kept.trim_matches('\n');
            prop_assert_eq!(out.text.as_str(), if kept.trim().is_empty() { "" } else { kept });
            prop_assert!(!out.text.lines().any(|l| l.trim_start().starts_with("MEDIA: ")));
        }
    }

    #[test]
    fn any_text_parses_without_panicking(text in "\\PC{0,200}") {
        let out = extract_media(&text);
        prop_assert!(out.text.len() <= text.len());
    }
}

#[test]
fn a_directive_inside_a_code_block_is_text() {
    let reply = "Use it like this:\n~~~\nMEDIA: out/a.png\n~~~\nMEDIA: out/b.png";
    let out = extract_media(reply);
    assert_eq!(out.media, vec![MediaRef::Local("out/b.png".into())]);
    assert_eq!(out.text, "Use it like this:\n~~~\nMEDIA: out/a.png\n~~~");
}

#[test]
fn only_directives_leave_no_text() {
    let out = extract_media("\nMEDIA: a.png\n\nMEDIA: <https://x.example/b.png>\n");
    assert_eq!(out.text, "");
    assert_eq!(
        out.media,
        vec![
            MediaRef::Local("a.png".into()),
            MediaRef::Url("https://x.example/b.png".into())
        ]
    );
}

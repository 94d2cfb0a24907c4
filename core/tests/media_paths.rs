//! The `MEDIA:` path policy (`krill_core::media::path_policy`) and the
//! inbound file names (`krill_core::media::inbound_file_name`): no input
//! leaves its folder.

use std::path::{Path, PathBuf};

use krill_core::media::inbound::inbound_file_name;
use krill_core::media::path_policy::{candidate_path, is_allowed};
use krill_core::media::safe_file_name;
use proptest::prelude::*;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_-]{1,8}",
        Just("..".to_owned()),
        Just(".".to_owned()),
        "[a-z]{1,4}\\.[a-z]{1,3}",
    ]
}

proptest! {
    #[test]
    fn an_allowed_path_is_inside_a_root_and_clean(
        segs in proptest::collection::vec(segment(), 0..8),
        absolute in any::<bool>(),
    ) {
        let roots = vec![PathBuf::from("/state/media"), PathBuf::from("/srv/out")];
        let raw = segs.join("/");
        let raw = if absolute { format!("/{raw}") } else { raw };
        let candidate = candidate_path(&raw, Path::new("/state/media"), None);
        if is_allowed(&candidate, &roots) {
            prop_assert!(roots.iter().any(|r| candidate.starts_with(r)));
            prop_assert!(!candidate.components().any(|c| matches!(
                c,
                std::path::Component::ParentDir | std::path::Component::CurDir
            )));
        }
        if !absolute && !segs.iter().any(|s| s == ".." || s == ".") {
            prop_assert!(is_allowed(&candidate, &roots), "{}", candidate.display());
        }
    }

    #[test]
    fn inbound_names_are_one_plain_component(
        platform in "\\PC{0,10}",
        id in "\\PC{0,60}",
        index in 0usize..20,
        name in "\\PC{0,300}",
    ) {
        let file = inbound_file_name(&platform, &id, index, &name);
        prop_assert!(!file.is_empty());
        prop_assert!(!file.starts_with('.'));
        prop_assert!(!file.contains(['/', '\\', '\0']));
        prop_assert!(!file.contains(".."));
        prop_assert!(file.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
        prop_assert!(file.len() <= 200);
        let safe = safe_file_name(&name);
        prop_assert!(safe.len() <= 100);
        prop_assert_eq!(Path::new(&safe).components().count(), 1);
    }
}

#[test]
fn documented_refusals() {
    let roots = vec![PathBuf::from("/state/media")];
    for refused in [
        "/etc/passwd",
        "/state/media-evil/x",
        "/state/mediax",
        "/state/media/../credentials/x",
        "/state",
    ] {
        assert!(!is_allowed(Path::new(refused), &roots), "{refused}");
    }
    assert!(is_allowed(Path::new("/state/media"), &roots));
    assert!(is_allowed(Path::new("/state/media/inbound/a.png"), &roots));
}

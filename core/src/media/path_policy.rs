//! Which local files an agent may send with `MEDIA:`: only files under the
//! state dir's `media/` folder and the folders listed in `media.localRoots`,
//! judged **after** symlinks and `..` are resolved (the driver resolves the
//! path with the filesystem and hands the result here), so
//! `MEDIA: /etc/passwd`, `MEDIA: ../credentials/x` and a symlink in
//! `media/` pointing at `/etc` are all refused.
//!
//! A relative path is taken under `<state>/media/` ([`candidate_path`]).

use std::path::{Component, Path, PathBuf};

/// The path to resolve for a `MEDIA:` target: absolute paths as written, a
/// leading `~/` under `home` when known, anything else under `media_dir`.
pub fn candidate_path(target: &str, media_dir: &Path, home: Option<&Path>) -> PathBuf {
    if let (Some(rest), Some(home)) = (target.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    let path = Path::new(target);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        media_dir.join(path)
    }
}

/// True when `resolved` (absolute, symlinks and `..` already resolved) is
/// one of `roots` (each resolved the same way) or inside one. Compared
/// component by component, so `/srv/media-evil` is not inside `/srv/media`.
/// A path that still holds `..` or `.` components is refused outright.
pub fn is_allowed(resolved: &Path, roots: &[PathBuf]) -> bool {
    if !resolved.is_absolute()
        || resolved
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::CurDir))
    {
        return false;
    }
    roots
        .iter()
        .filter(|root| root.is_absolute())
        .any(|root| resolved.starts_with(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_targets_live_under_media() {
        let media = Path::new("/state/media");
        assert_eq!(
            candidate_path("out/a.png", media, None),
            PathBuf::from("/state/media/out/a.png")
        );
        assert_eq!(
            candidate_path("/etc/passwd", media, None),
            PathBuf::from("/etc/passwd")
        );
        assert_eq!(
            candidate_path("~/x.png", media, Some(Path::new("/home/u"))),
            PathBuf::from("/home/u/x.png")
        );
    }

    #[test]
    fn only_paths_inside_a_root_are_allowed() {
        let roots = vec![PathBuf::from("/state/media"), PathBuf::from("/srv/out")];
        assert!(is_allowed(Path::new("/state/media/a.png"), &roots));
        assert!(is_allowed(Path::new("/srv/out/x/y.txt"), &roots));
        assert!(!is_allowed(Path::new("/etc/passwd"), &roots));
        assert!(!is_allowed(Path::new("/state/media-evil/a"), &roots));
        assert!(!is_allowed(Path::new("/state/media/../x"), &roots));
        assert!(!is_allowed(Path::new("relative"), &roots));
        assert!(!is_allowed(Path::new("/state/media/a"), &[]));
    }
}

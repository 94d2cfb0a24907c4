//! `/config set|unset` on the config file: read it, edit the one value in
//! place ([`krill_core::config::edit`]), check the result exactly as start-up
//! does ([`krill_core::config::parse`]; an invalid result is refused with the
//! same `file:line:column: key.path: message` text as the CLI and the file is
//! left alone), then write it atomically (a temporary file in the same
//! folder, the original's permissions, `rename`). The running gateway's
//! watcher then picks the change up like any other edit.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use krill_core::config::edit::{set_value, unset_value};
use krill_core::config::{self, KeyPath};

use crate::config_file::ConfigFileError;

/// Sets (`Some(value)`) or removes (`None`) the value at `path`; the error is
/// the text to answer with.
pub fn write_value(file: &Path, path: &KeyPath, value: Option<&str>) -> Result<(), String> {
    let text = match fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound && value.is_some() => String::new(),
        Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
    };
    let edited = match value {
        Some(value) => set_value(&text, path, value),
        None => unset_value(&text, path),
    }
    .map_err(|e| e.to_string())?;
    if let Err(error) = config::parse(&edited) {
        let invalid = ConfigFileError::Invalid {
            path: file.to_path_buf(),
            error,
        };
        return Err(format!("refused, the file is unchanged: {invalid}"));
    }
    write_atomic(file, edited.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// Writes `bytes` to `file` through a temporary file and a rename, keeping
/// the file's permissions (new files: 0600, they hold tokens).
pub fn write_atomic(file: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "krill.json5".to_owned());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let permissions = fs::metadata(file).ok().map(|m| m.permissions());
    let result = (|| {
        let mut out = fs::File::create(&tmp)?;
        match permissions {
            Some(p) => fs::set_permissions(&tmp, p)?,
            None => {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
                }
            }
        }
        out.write_all(bytes)?;
        out.sync_all()?;
        fs::rename(&tmp, file)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

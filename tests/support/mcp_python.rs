//! The Python interpreter with the official MCP SDK (`mcp` on PyPI) that the
//! `krill mcp` scenarios drive. `$KRILL_MCP_PYTHON` names it (CI's `.ci/run`
//! creates a venv and sets it); without it the venv
//! `<target>/tmp/mcp-venv` is used, and created (`python3 -m venv`, `pip
//! install mcp`, bounded in time) when missing. When that fails the test
//! fails and says how to make one.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The SDK version the scenarios are written against (CI installs the same).
const MCP_PACKAGE: &str = "mcp==2.3.0";

/// How long creating the venv may take.
const INSTALL_LIMIT: Duration = Duration::from_secs(300);

/// The interpreter (panics with how to get one when there is none).
pub fn mcp_python() -> PathBuf {
    if let Some(python) = std::env::var_os("KRILL_MCP_PYTHON").filter(|v| !v.is_empty()) {
        let python = PathBuf::from(python);
        assert!(
            has_mcp(&python),
            "KRILL_MCP_PYTHON={} cannot `import mcp`: install it there with \
             `{} -m pip install mcp`",
            python.display(),
            python.display()
        );
        return python;
    }
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("mcp-venv");
    let python = venv.join("bin").join("python");
    if has_mcp(&python) {
        return python;
    }
    let made = run(Command::new("python3").arg("-m").arg("venv").arg(&venv))
        && run(Command::new(&python).args(["-m", "pip", "install", "--quiet", MCP_PACKAGE]));
    assert!(
        made && has_mcp(&python),
        "no Python with the MCP SDK: create one with `python3 -m venv {venv} && \
         {venv}/bin/pip install {MCP_PACKAGE}` (or set KRILL_MCP_PYTHON to a python that can `import mcp`)",
        venv = venv.display()
    );
    python
}

fn has_mcp(python: &PathBuf) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import mcp.client.stdio"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// Runs `command` for at most [`INSTALL_LIMIT`]; true when it succeeded.
fn run(command: &mut Command) -> bool {
    let Ok(mut child) = command.stdin(Stdio::null()).spawn() else {
        return false;
    };
    let deadline = Instant::now() + INSTALL_LIMIT;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return status.success();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

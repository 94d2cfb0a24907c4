//! The baseline bot of the end-to-end benchmark: a minimal discord.py echo
//! bot, run against the same fake Discord as krill.
//!
//! [`prepare`] makes a Python venv of the bench's own (`<target>/e2e-discordpy-venv`,
//! or `KRILL_E2E_VENV`) and pip-installs [`DISCORD_PY`] into it once; when
//! that cannot be done (no `python3`, no network) it says why and the bench
//! skips the row. [`command`] builds the command that runs [`BOT_SCRIPT`].
//!
//! discord.py is pointed at the fake with its own hooks: `Route.BASE` (the
//! REST base URL, through the bench's stamping proxy) and
//! `DiscordWebSocket.DEFAULT_GATEWAY`, set to the URL `GET /gateway/bot`
//! answers; its REST global limit is reactive only
//! (it waits on a global 429), so nothing needs lifting on its side.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The discord.py release the baseline runs.
pub const DISCORD_PY: &str = "discord.py==2.7.1";

/// The echo bot: answers every message that is not its own with its text.
pub const BOT_SCRIPT: &str = r#"
import logging, os, sys
import discord
import yarl

discord.http.Route.BASE = os.environ["KRILL_E2E_DPY_API"]
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

intents = discord.Intents.default()
intents.message_content = True
client = discord.Client(intents=intents)

async def setup_hook():
    # A plain discord.Client dials DEFAULT_GATEWAY; ask the (fake) API for
    # the gateway URL as a sharded client does.
    _, url, _ = await client.http.get_bot_gateway()
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

client.setup_hook = setup_hook

@client.event
async def on_ready():
    print("ready", flush=True)

@client.event
async def on_message(message):
    if message.author.id == client.user.id:
        return
    await message.channel.send(message.content)

client.run(os.environ["KRILL_E2E_DPY_TOKEN"], log_handler=None)
"#;

/// The venv's Python with discord.py importable, made on first use.
pub fn prepare(target_dir: &Path) -> Result<PathBuf, String> {
    let venv = std::env::var_os("KRILL_E2E_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir.join("e2e-discordpy-venv"));
    let python = venv.join("bin").join("python");
    if imports_discord(&python) {
        return Ok(python);
    }
    if !python.is_file() {
        let made = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .stdout(Stdio::null())
            .status();
        match made {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(format!("`python3 -m venv {}` failed ({s})", venv.display())),
            Err(e) => return Err(format!("cannot run python3 to make a venv: {e}")),
        }
    }
    let installed = Command::new(venv.join("bin").join("pip"))
        .args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            DISCORD_PY,
        ])
        .stdout(Stdio::null())
        .status();
    match installed {
        Ok(s) if s.success() && imports_discord(&python) => Ok(python),
        Ok(s) => Err(format!(
            "`pip install {DISCORD_PY}` into {} failed ({s})",
            venv.display()
        )),
        Err(e) => Err(format!("cannot run the venv's pip: {e}")),
    }
}

fn imports_discord(python: &Path) -> bool {
    python.is_file()
        && Command::new(python)
            .args(["-c", "import discord"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// The command running the echo bot (script written into `dir`) with
/// `token`, REST base `api_base` (`http://127.0.0.1:<port>/api/v10`).
pub fn command(python: &Path, dir: &Path, token: &str, api_base: &str) -> std::io::Result<Command> {
    let script = dir.join("echo_bot.py");
    std::fs::write(&script, BOT_SCRIPT)?;
    let mut command = Command::new(python);
    command
        .arg(script)
        .env("KRILL_E2E_DPY_API", api_base)
        .env("KRILL_E2E_DPY_TOKEN", token)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    Ok(command)
}

//! Memory and thread figures of a running process from
//! `/proc/<pid>/status` (Linux), for the end-to-end benchmark.
//!
//! - `VmRSS`: resident set now; `VmHWM`: its peak ("high water mark");
//! - [`reset_peak`] writes `5` to `/proc/<pid>/clear_refs`, which resets
//!   `VmHWM` to the current RSS (Linux ≥ 4.0), so a later peak covers only
//!   what happened after it.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

/// The figures read from one `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStatus {
    /// `VmRSS` in KiB.
    pub rss_kib: u64,
    /// `VmHWM` in KiB.
    pub hwm_kib: u64,
    /// `Threads`.
    pub threads: u64,
}

/// Parses the text of a `/proc/<pid>/status` file. Missing fields read 0.
pub fn parse_status(text: &str) -> ProcStatus {
    let mut out = ProcStatus::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let number = value
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        match key {
            "VmRSS" => out.rss_kib = number,
            "VmHWM" => out.hwm_kib = number,
            "Threads" => out.threads = number,
            _ => {}
        }
    }
    out
}

/// Reads `/proc/<pid>/status`.
pub fn read_status(pid: u32) -> io::Result<ProcStatus> {
    std::fs::read_to_string(format!("/proc/{pid}/status")).map(|t| parse_status(&t))
}

/// CPU time the process used so far (user + system, every thread, dead
/// ones included), from `/proc/<pid>/stat` fields 14 and 15 (in
/// `USER_HZ` = 100 ticks per second, fixed by the kernel ABI).
pub fn read_cpu_time(pid: u32) -> io::Result<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_time(&text).ok_or_else(|| io::Error::other("unexpected /proc/<pid>/stat format"))
}

/// Parses `utime + stime` out of the text of a `/proc/<pid>/stat` file.
pub fn parse_cpu_time(text: &str) -> Option<Duration> {
    // The command name (field 2) may hold spaces; fields restart after ')'.
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Context switches (voluntary + involuntary) of the live threads of a
/// process, per kind of thread: `main` (the process's first thread), else
/// the thread's name without a trailing `-<n>` (`krill-worker-0` and
/// `krill-worker-1` are one kind, `krill-worker`). Threads that already
/// ended are not counted (the kernel keeps no per-process total).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadSwitches(pub BTreeMap<String, u64>);

impl ThreadSwitches {
    /// All kinds together.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// What `self` counts beyond `earlier`, per kind (a kind `earlier`
    /// lacks counts whole).
    pub fn since(&self, earlier: &Self) -> Self {
        let delta = self
            .0
            .iter()
            .map(|(kind, n)| {
                let before = earlier.0.get(kind).copied().unwrap_or(0);
                (kind.clone(), n.saturating_sub(before))
            })
            .collect();
        Self(delta)
    }
}

/// The kind of thread `tid` named `name` is in process `pid` (see
/// [`ThreadSwitches`]).
pub fn thread_kind(pid: u32, tid: u32, name: &str) -> String {
    if tid == pid {
        return "main".to_owned();
    }
    let name = name.trim();
    match name.rsplit_once('-') {
        Some((kind, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            kind.to_owned()
        }
        _ => name.to_owned(),
    }
}

/// Reads every live thread's switches from `/proc/<pid>/task/*/status`.
pub fn read_thread_switches(pid: u32) -> io::Result<ThreadSwitches> {
    let mut kinds = ThreadSwitches::default();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let Ok(task) = task else { continue };
        let Ok(text) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        let tid = task.file_name().to_string_lossy().parse().unwrap_or(0);
        let name = text
            .lines()
            .find_map(|line| line.strip_prefix("Name:"))
            .unwrap_or("");
        *kinds.0.entry(thread_kind(pid, tid, name)).or_insert(0) += parse_context_switches(&text);
    }
    Ok(kinds)
}

/// `voluntary_ctxt_switches + nonvoluntary_ctxt_switches` of one status text.
pub fn parse_context_switches(text: &str) -> u64 {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(key, _)| {
            matches!(
                *key,
                "voluntary_ctxt_switches" | "nonvoluntary_ctxt_switches"
            )
        })
        .filter_map(|(_, value)| value.trim().parse::<u64>().ok())
        .sum()
}

/// Resets the process's `VmHWM` to its current RSS.
pub fn reset_peak(pid: u32) -> io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_switches_add_both_kinds() {
        let text = "Name:\tkrill\nvoluntary_ctxt_switches:\t120\nnonvoluntary_ctxt_switches:\t7\n";
        assert_eq!(parse_context_switches(text), 127);
        assert_eq!(parse_context_switches("Name:\tx\n"), 0);
    }

    #[test]
    fn threads_are_grouped_by_kind() {
        assert_eq!(thread_kind(10, 10, "krill"), "main");
        assert_eq!(thread_kind(10, 11, "krill-worker-3"), "krill-worker");
        assert_eq!(thread_kind(10, 12, "async-io"), "async-io");
        assert_eq!(thread_kind(10, 13, "blocking-1"), "blocking");
        let me = read_thread_switches(std::process::id()).expect("/proc is mounted");
        assert!(me.0.contains_key("main"));
        let before = ThreadSwitches([("main".to_owned(), 5)].into_iter().collect());
        let after = ThreadSwitches(
            [("main".to_owned(), 9), ("async-io".to_owned(), 2)]
                .into_iter()
                .collect(),
        );
        let delta = after.since(&before);
        assert_eq!(delta.0["main"], 4);
        assert_eq!(delta.0["async-io"], 2);
        assert_eq!(delta.total(), 6);
    }

    #[test]
    fn status_fields_are_read_in_kib() {
        let text = "Name:\tkrill\nVmPeak:\t  20000 kB\nVmHWM:\t    7340 kB\nVmRSS:\t    6120 kB\nThreads:\t5\n";
        assert_eq!(
            parse_status(text),
            ProcStatus {
                rss_kib: 6120,
                hwm_kib: 7340,
                threads: 5
            }
        );
        assert_eq!(parse_status("garbage"), ProcStatus::default());
    }

    #[test]
    fn cpu_time_is_utime_plus_stime() {
        let stat = "4242 (krill gate way) S 1 4242 4242 0 -1 4194560 1200 0 0 0 37 5 0 0 20 0 5 0 100 1000 900";
        assert_eq!(parse_cpu_time(stat), Some(Duration::from_millis(420)));
        assert_eq!(parse_cpu_time("garbage"), None);
        assert!(read_cpu_time(std::process::id()).is_ok());
    }

    #[test]
    fn this_process_has_a_resident_set() {
        let me = read_status(std::process::id()).expect("/proc is mounted");
        assert!(me.rss_kib > 0);
        assert!(me.hwm_kib >= me.rss_kib);
        assert!(me.threads >= 1);
    }
}

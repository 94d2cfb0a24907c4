//! Memory and thread figures of a running process from
//! `/proc/<pid>/status` (Linux), for the end-to-end benchmark.
//!
//! - `VmRSS`: resident set now; `VmHWM`: its peak ("high water mark");
//! - [`reset_peak`] writes `5` to `/proc/<pid>/clear_refs`, which resets
//!   `VmHWM` to the current RSS (Linux ≥ 4.0), so a later peak covers only
//!   what happened after it.

use std::io;

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

/// Resets the process's `VmHWM` to its current RSS.
pub fn reset_peak(pid: u32) -> io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn this_process_has_a_resident_set() {
        let me = read_status(std::process::id()).expect("/proc is mounted");
        assert!(me.rss_kib > 0);
        assert!(me.hwm_kib >= me.rss_kib);
        assert!(me.threads >= 1);
    }
}

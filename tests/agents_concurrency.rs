//! The runner: different sessions run at the same time, one session's
//! turns run one at a time in submission order, and `max_concurrency`
//! bounds the turns running at once. Overlap is proven by a rendezvous
//! (tests/agents/barrier.py only gets past its barrier when a turn of
//! another session has started), not by timing.

#[path = "agents/support.rs"]
mod support;

use std::path::Path;

use support::{command, dm_turn, next, runner};

fn log(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn position(log: &[String], line: &str) -> usize {
    log.iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("`{line}` in {log:#?}"))
}

#[test]
fn sessions_overlap_while_each_session_stays_in_order() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().join("barrier");
    let runner = runner(
        command("barrier.py", &[dir.to_str().unwrap()], 60_000),
        state.path(),
        4,
    );
    let (a, b) = (
        "agent:main:discord:channel:1",
        "agent:main:discord:channel:2",
    );

    runner.submit(dm_turn(a, "1", "wait-a1"), "a1");
    runner.submit(dm_turn(a, "2", "a2"), "a2");
    runner.submit(dm_turn(a, "3", "a3"), "a3");
    runner.submit(dm_turn(b, "4", "wait-b1"), "b1");

    let mut order = Vec::new();
    for _ in 0..4 {
        let (label, outcome) = next(&runner);
        assert!(!outcome.failed, "{label}: {:?}", outcome.error);
        let reply = outcome.reply.unwrap();
        assert!(
            !reply.ends_with("alone"),
            "{label} never met the other session: {reply}"
        );
        order.push(label);
    }
    let a_order: Vec<&str> = order
        .iter()
        .copied()
        .filter(|l| l.starts_with('a'))
        .collect();
    assert_eq!(
        a_order,
        ["a1", "a2", "a3"],
        "outcomes of a session come in order"
    );

    let log = log(&dir);
    assert_eq!(log.len(), 8);
    // Session a: each turn ends before the next one starts.
    let a_lines: Vec<&String> = log.iter().filter(|l| l.contains(a)).collect();
    assert_eq!(
        a_lines,
        [
            &format!("start {a} wait-a1"),
            &format!("end {a} wait-a1"),
            &format!("start {a} a2"),
            &format!("end {a} a2"),
            &format!("start {a} a3"),
            &format!("end {a} a3"),
        ]
    );
    // Sessions a and b overlapped: each started before the other ended.
    assert!(
        position(&log, &format!("start {b} wait-b1")) < position(&log, &format!("end {a} wait-a1"))
    );
    assert!(
        position(&log, &format!("start {a} wait-a1")) < position(&log, &format!("end {b} wait-b1"))
    );
}

#[test]
fn max_concurrency_one_runs_one_turn_at_a_time() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().join("barrier");
    // The barrier gives up after 1 s; with one permit the other session can
    // never start meanwhile, so the first turn is always alone.
    let mut backend = command("barrier.py", &[dir.to_str().unwrap()], 60_000);
    if let krill_core::agent::BackendSpec::Command { command, .. } = &mut backend {
        command.push("1".into());
    }
    let runner = runner(backend, state.path(), 1);
    runner.submit(dm_turn("agent:main:x", "1", "wait-x"), "x");
    runner.submit(dm_turn("agent:main:y", "2", "wait-y"), "y");
    let first = next(&runner);
    let second = next(&runner);
    assert!(
        first.1.reply.unwrap().ends_with("alone"),
        "the first turn ran alone"
    );
    assert!(!second.1.failed);

    let log = log(&dir);
    assert_eq!(log.len(), 4);
    for pair in log.chunks(2) {
        let start = pair[0].strip_prefix("start ").unwrap();
        let end = pair[1].strip_prefix("end ").unwrap();
        assert_eq!(start, end, "no overlap: {log:#?}");
    }
}

#[test]
fn submit_returns_before_the_turn_finishes() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().join("barrier");
    let runner = runner(
        command("barrier.py", &[dir.to_str().unwrap()], 60_000),
        state.path(),
        4,
    );
    // This turn waits for another session; submit must return so that the
    // second session can be submitted at all.
    runner.submit(dm_turn("agent:main:p", "1", "wait-p"), "p");
    assert_eq!(runner.busy_sessions(), 1);
    runner.submit(dm_turn("agent:main:q", "2", "q"), "q");
    let mut replies = vec![
        next(&runner).1.reply.unwrap(),
        next(&runner).1.reply.unwrap(),
    ];
    replies.sort();
    assert_eq!(replies, ["q", "wait-p"]);
}

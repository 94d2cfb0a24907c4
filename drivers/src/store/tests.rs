//! The store's commits and the WAL write-back they ask for.

use super::*;
use krill_core::config::Platform;

fn accept(store: &Store, n: u32) {
    let _batch = store.batch();
    store
        .accept_turn(Platform::Discord, "bot", &format!("m{n}"), "s", "{}", 1)
        .expect("journaled");
}

fn wal_len(store: &Store) -> u64 {
    let mut wal = store.path().as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn a_write_back_is_asked_for_once_enough_commits_gathered() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let wanted = store.write_back_wanted();
    for n in 0..WRITE_BACK_AFTER_COMMITS - 1 {
        accept(&store, n);
    }
    assert!(wanted.try_recv().is_err(), "asked too early");
    accept(&store, WRITE_BACK_AFTER_COMMITS);
    assert!(wanted.try_recv().is_ok(), "not asked");
    assert!(store.write_back().unwrap());
    assert_eq!(
        store.turn_count().unwrap(),
        i64::from(WRITE_BACK_AFTER_COMMITS)
    );
    // The count starts again.
    accept(&store, WRITE_BACK_AFTER_COMMITS + 1);
    assert!(wanted.try_recv().is_err());
}

#[test]
fn after_a_write_back_the_wal_is_rewritten_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for n in 0..100 {
        accept(&store, n);
    }
    let grown = wal_len(&store);
    assert!(grown > 0, "the WAL holds the commits");
    assert!(store.write_back().unwrap());
    for n in 100..150 {
        accept(&store, n);
    }
    assert_eq!(wal_len(&store), grown, "the WAL grew instead of restarting");
    assert_eq!(store.turn_count().unwrap(), 150);
}

#[test]
fn a_write_back_waits_for_the_open_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let batch = store.batch();
    store
        .accept_turn(Platform::Discord, "bot", "m1", "s", "{}", 1)
        .unwrap();
    assert!(!store.write_back().unwrap(), "wrote back mid-transaction");
    drop(batch);
    assert!(store.write_back().unwrap());
    assert_eq!(store.turn_count().unwrap(), 1);
}

#[test]
fn a_new_file_uses_the_small_page_size_and_an_old_one_keeps_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let size = |store: &Store| -> i64 {
        store
            .with(|conn| conn.query_row("PRAGMA page_size", [], |row| row.get(0)))
            .unwrap()
    };
    assert_eq!(size(&store), i64::from(PAGE_SIZE));

    let old = dir.path().join("old.db");
    {
        let conn = Connection::open(&old).unwrap();
        conn.execute_batch(
            "PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE t (x);",
        )
        .unwrap();
    }
    let store = Store::open_file(&old).unwrap();
    assert_eq!(size(&store), 4096);
    accept(&store, 1);
    assert_eq!(store.turn_count().unwrap(), 1);
}

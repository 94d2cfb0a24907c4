//! Pairing codes (`pairing::PairingBook`): alphabet, expiry, same code for the
//! same sender, at most three pending, approval.

use krill_core::config::Platform;
use krill_core::pairing::{
    challenge_text, is_valid_code, normalize_code, ApproveError, PairingBook, PairingOutcome,
    Requester, CODE_TTL_MS, MAX_PENDING,
};
use proptest::prelude::*;

fn who(id: &str) -> Requester {
    Requester {
        id: id.into(),
        name: None,
        account_id: "default".into(),
        chat_id: None,
    }
}

fn code(o: &PairingOutcome) -> String {
    match o {
        PairingOutcome::Created { code, .. } | PairingOutcome::Pending { code, .. } => code.clone(),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn codes_are_eight_characters_without_ambiguous_ones(seed in any::<u64>()) {
        let mut book = PairingBook::default();
        let c = code(&book.challenge(0, &who("1"), seed));
        prop_assert!(is_valid_code(&c), "{}", c);
        prop_assert!(!c.contains(['0', 'O', '1', 'I']));
    }
}

#[test]
fn same_seed_same_code_and_same_sender_same_code() {
    let mut a = PairingBook::default();
    let mut b = PairingBook::default();
    assert_eq!(a.challenge(0, &who("1"), 42), b.challenge(0, &who("1"), 42));
    let first = code(&a.challenge(0, &who("1"), 42));
    let again = a.challenge(10_000, &who("1"), 7);
    assert_eq!(
        again,
        PairingOutcome::Pending {
            code: first,
            expires_at_ms: CODE_TTL_MS
        }
    );
}

#[test]
fn codes_expire_after_an_hour_and_the_sender_gets_a_new_one() {
    let mut book = PairingBook::default();
    let c1 = code(&book.challenge(0, &who("1"), 1));
    assert_eq!(book.pending(CODE_TTL_MS - 1).count(), 1);
    assert_eq!(book.pending(CODE_TTL_MS).count(), 0);
    let o = book.challenge(CODE_TTL_MS, &who("1"), 2);
    assert!(matches!(o, PairingOutcome::Created { .. }));
    assert_ne!(code(&o), c1);
}

#[test]
fn at_most_three_pending_then_silence_until_one_expires() {
    let mut book = PairingBook::default();
    for i in 0..MAX_PENDING {
        assert!(matches!(
            book.challenge(0, &who(&i.to_string()), i as u64),
            PairingOutcome::Created { .. }
        ));
    }
    assert_eq!(book.challenge(5, &who("stranger"), 9), PairingOutcome::Full);
    assert!(matches!(
        book.challenge(CODE_TTL_MS, &who("stranger"), 9),
        PairingOutcome::Created { .. }
    ));
}

#[test]
fn approve_takes_the_code_in_any_case_once() {
    let mut book = PairingBook::default();
    let c = code(&book.challenge(0, &who("1"), 3));
    let typed = format!(" {}-{} ", &c[..4].to_lowercase(), &c[4..]);
    assert_eq!(normalize_code(&typed), c);
    assert_eq!(
        book.approve(1, &typed).map(|r| r.sender_id),
        Ok("1".to_owned())
    );
    assert_eq!(book.approve(2, &c), Err(ApproveError::Unknown(c.clone())));
}

#[test]
fn approving_an_expired_code_fails() {
    let mut book = PairingBook::default();
    let c = code(&book.challenge(0, &who("1"), 3));
    assert_eq!(book.approve(CODE_TTL_MS, &c), Err(ApproveError::Expired(c)));
}

#[test]
fn the_challenge_text_has_the_code_and_the_command() {
    let t = challenge_text(Platform::Discord, "ABCD2345");
    assert!(t.contains("ABCD2345"));
    assert!(t.contains("krill pairing approve discord ABCD2345"));
    assert!(t.contains("1 hour"));
}

#[test]
fn the_book_round_trips_as_json() {
    let mut book = PairingBook::default();
    book.challenge(
        5,
        &Requester {
            name: Some("bob".into()),
            chat_id: Some("55".into()),
            ..who("1")
        },
        3,
    );
    let text = serde_json::to_string(&book).unwrap();
    assert!(
        text.contains("\"senderId\":\"1\"") && text.contains("\"expiresAtMs\""),
        "{text}"
    );
    let back: PairingBook = serde_json::from_str(&text).unwrap();
    assert_eq!(back, book);
}

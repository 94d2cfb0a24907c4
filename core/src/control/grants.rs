//! Turn tokens: what a call on the control socket may do. The gateway gives
//! each command-agent turn a random, unguessable token (`KRILL_TURN_TOKEN`,
//! made by the driver from OS randomness) and grants it the turn's scope
//! (account, chat, tool policy); a call is carried out only within the scope
//! of a token granted and not yet revoked, and the token is revoked the
//! moment the turn ends. The scope is whatever the gateway keeps per turn
//! (`T`): a call can only act through it, so it never names another turn's
//! chat.

use std::collections::HashMap;

/// Bytes of randomness in a token (hex-encoded: twice as many characters).
pub const TOKEN_BYTES: usize = 32;

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No token came with the call.
    #[error(
        "refused: no turn token (KRILL_TURN_TOKEN is set only inside a krill command-agent turn)"
    )]
    Missing,
    /// The token was never granted, or its turn has ended.
    #[error(
        "refused: the turn token is not valid (its turn has ended, or it is not a krill token)"
    )]
    Invalid,
}

/// The tokens granted now, each with its turn's scope.
#[derive(Debug, Clone)]
pub struct TurnGrants<T> {
    grants: HashMap<String, T>,
}

impl<T> Default for TurnGrants<T> {
    fn default() -> Self {
        Self {
            grants: HashMap::new(),
        }
    }
}

impl<T> TurnGrants<T> {
    /// Grants `scope` to the token made of `random` (hex-encoded).
    /// Returns the token.
    pub fn grant(&mut self, random: [u8; TOKEN_BYTES], scope: T) -> String {
        let token = token_text(&random);
        self.grants.insert(token.clone(), scope);
        token
    }

    /// Ends `token`'s grant (its turn ended); its scope, if it had one.
    pub fn revoke(&mut self, token: &str) -> Option<T> {
        self.grants.remove(token)
    }

    /// The scope of `token`, or why the call is refused.
    pub fn authorize(&self, token: Option<&str>) -> Result<&T, Refusal> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Missing)?;
        self.grants.get(token).ok_or(Refusal::Invalid)
    }

    /// Tokens granted now.
    pub fn len(&self) -> usize {
        self.grants.len()
    }

    /// True when no token is granted.
    pub fn is_empty(&self) -> bool {
        self.grants.is_empty()
    }
}

/// `random` as lowercase hex.
fn token_text(random: &[u8; TOKEN_BYTES]) -> String {
    random.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn granted_tokens_work_until_revoked() {
        let mut grants = TurnGrants::default();
        let token = grants.grant([7; TOKEN_BYTES], "chat 1");
        assert_eq!(token.len(), 2 * TOKEN_BYTES);
        assert_eq!(grants.authorize(Some(&token)), Ok(&"chat 1"));
        let other = grants.grant([8; TOKEN_BYTES], "chat 2");
        assert_eq!(grants.authorize(Some(&other)), Ok(&"chat 2"));
        assert_eq!(grants.revoke(&token), Some("chat 1"));
        assert_eq!(grants.authorize(Some(&token)), Err(Refusal::Invalid));
        assert_eq!(grants.authorize(Some("forged")), Err(Refusal::Invalid));
        assert_eq!(grants.authorize(None), Err(Refusal::Missing));
        assert_eq!(grants.authorize(Some(" ")), Err(Refusal::Missing));
        assert_eq!(grants.len(), 1);
    }
}

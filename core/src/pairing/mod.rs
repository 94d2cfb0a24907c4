//! Pairing codes for unknown DM senders. (To be built: issue 6.)

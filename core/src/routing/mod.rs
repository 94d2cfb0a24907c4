//! Routing: the session key each inbound message belongs to.
//! (To be built: issue 6.)

//! Access policy: decides allow / drop (with a reason) / pairing challenge for
//! each inbound message. (To be built: issue 6.)

//! The Discord gateway: typed frames and the sans-IO shard machine.
//! (To be built: issue 2.)

//! The KOOK gateway: typed frames and the sans-IO session machine.
//! (To be built: issue 3.)

//! The config schema (`krill.json5`), its defaults and its validation.
//! (To be built: issue 6.)

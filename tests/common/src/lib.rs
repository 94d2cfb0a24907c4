//! krill-testkit: fake Discord and KOOK servers (real HTTP and WebSocket
//! servers bound to 127.0.0.1, scriptable per test, bounded in time) shared by
//! the end-to-end scenarios in `tests/` and the benchmarks in `benches/`.
//! (To be built: issue 5.)
pub mod openai;

//! Inputs shared by krill's benchmarks (`benches/benches/*.rs`): realistic
//! generated replies and frames. Run with `cargo bench -p krill-benches`.

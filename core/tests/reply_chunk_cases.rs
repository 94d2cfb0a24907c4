//! Scenario tests for the chunker: one rule per test, exact outputs.

use krill_core::reply::{chunk_text, ChunkLimits, ChunkMode};

fn len(limit: usize, lines: Option<usize>) -> ChunkLimits {
    ChunkLimits::new(limit, lines, ChunkMode::Length)
}

#[test]
fn scratch() {
    let text = "```rust\nfn main() {\n    println!(\"hello world\");\n}\n```\nafter the code block there is some text";
    for c in chunk_text(text, &len(30, None)) {
        println!("---\n{c}");
    }
    let t2: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    for c in chunk_text(&t2, &len(2000, Some(17))) {
        println!("---\n{c}");
    }
}

//! Evaluations per second of the benchmark mappings, compiled once and evaluated many times
//! on one core:
//!
//! ```text
//! cargo run --release -p expr --example bench [seconds per case, default 2]
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use expr::EvalContext;

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    let ctx = EvalContext::new("2021-07-02T15:33:38Z".parse().expect("a valid time"));
    println!(
        "{:<16} {:>14} {:>12}  expression",
        "case", "evals/s", "ns/eval"
    );
    for case in expr::bench::cases() {
        // Warm up (and check the mapping works) before timing.
        case.expression
            .evaluate(&case.attributes, &ctx)
            .expect("benchmark mappings evaluate");
        let mut evaluations: u64 = 0;
        let start = Instant::now();
        while start.elapsed() < budget {
            for _ in 0..1_000 {
                black_box(
                    case.expression
                        .evaluate(black_box(&case.attributes), &ctx)
                        .ok(),
                );
            }
            evaluations += 1_000;
        }
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "{:<16} {:>14.0} {:>12.1}  {}",
            case.name,
            evaluations as f64 / elapsed,
            elapsed * 1e9 / evaluations as f64,
            case.expression.source()
        );
    }
}

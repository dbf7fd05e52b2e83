//! What the benches share: ratios timed in alternating rounds, which hold still on a shared,
//! noisy machine where criterion's benchmarks, run seconds apart, see different loads; and
//! criterion's own estimates of this run.
#![allow(dead_code)] // each bench uses a part of it

use std::time::{Instant, SystemTime};

/// How a paired measurement runs: `calls` of each side per round, `warmup` rounds first, then
/// `rounds` (odd) timed ones.
pub struct Rounds {
    pub calls: u32,
    pub warmup: usize,
    pub rounds: usize,
}

/// The ratio of `b`'s time to `a`'s, timed in alternating rounds (which goes first alternates
/// too): the first quartile, the median and the third over the rounds.
pub fn paired_ratio(plan: &Rounds, mut a: impl FnMut(), mut b: impl FnMut()) -> [f64; 3] {
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..plan.calls {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    for _ in 0..plan.warmup {
        time(&mut a);
        time(&mut b);
    }
    let mut ratios: Vec<f64> = (0..plan.rounds)
        .map(|round| {
            let (ta, tb) = if round % 2 == 0 {
                let ta = time(&mut a);
                (ta, time(&mut b))
            } else {
                let tb = time(&mut b);
                (time(&mut a), tb)
            };
            tb / ta
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    let n = plan.rounds;
    [n / 4, n / 2, 3 * n / 4].map(|i| ratios[i])
}

/// Reads criterion's median estimate (ns) for one benchmark of this run (`started`): an estimate
/// left by an earlier run (one with a filter skips benchmarks) would be compared with today's.
pub fn median_ns(group: &str, bench: &str, started: SystemTime) -> Option<f64> {
    let dir = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target").to_string());
    let path = format!("{dir}/criterion/{group}/{bench}/new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < started {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let key = "\"median\":{\"confidence_interval\":";
    let at = text.find(key)?;
    let rest = &text[at..];
    let point = rest.find("\"point_estimate\":")? + "\"point_estimate\":".len();
    let end = rest[point..].find([',', '}'])?;
    rest[point..point + end].trim().parse().ok()
}

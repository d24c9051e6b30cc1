//! Engine throughput: committed transfers per second for each design, batch size, thread count
//! and account choice on 1M accounts; plus record encode/decode and generator cost.
//!
//! `cargo bench --bench engine` (all), `cargo bench --bench engine -- apply/single-writer/uniform/t2/b1024`
//! (one), `--save-baseline NAME` / `--baseline NAME` as usual with criterion.

#![allow(clippy::single_range_in_vec_init)] // one sender range is the common case of the API

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use engine::{decode_batch_into, encode_batch, AccountChoice, Design, GenConfig, Generator};
use std::hint::black_box;
use std::time::Duration;
use txbench::Rig;

const ACCOUNTS: u64 = 1_000_000;

fn apply(c: &mut Criterion) {
    let mut group = c.benchmark_group("apply");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for design in [Design::SingleWriter, Design::Cas] {
        for (dist, choice) in [
            ("uniform", AccountChoice::Uniform),
            ("zipf1.1", AccountChoice::Zipf { exponent: 1.1 }),
        ] {
            for threads in [1usize, 2] {
                for batch in [1usize, 64, 1024] {
                    let mut rig = Rig::new(design, ACCOUNTS, threads, batch, choice.clone());
                    group.throughput(Throughput::Elements(rig.tx_per_iteration()));
                    let id = BenchmarkId::new(
                        format!("{}/{dist}/t{threads}", design.as_str()),
                        format!("b{batch}"),
                    );
                    group.bench_function(id, |b| b.iter_custom(|iters| rig.run(iters)));
                    let audit = rig.engine.audit();
                    assert!(audit.ok, "audit failed after bench: {:?}", audit.problems);
                }
            }
        }
    }
    group.finish();
}

fn codec(c: &mut Criterion) {
    let mut group = c.benchmark_group("codec");
    let mut g = Generator::new(GenConfig::uniform(ACCOUNTS, 1), vec![0..ACCOUNTS], None);
    let mut batch = Vec::new();
    g.fill(&mut batch, 1024);
    let mut bytes = Vec::new();
    encode_batch(&batch, &mut bytes);
    group.throughput(Throughput::Elements(1024));
    group.bench_function("encode/b1024", |b| {
        let mut out = Vec::with_capacity(bytes.len());
        b.iter(|| {
            out.clear();
            encode_batch(black_box(&batch), &mut out);
            black_box(out.len())
        })
    });
    group.bench_function("decode/b1024", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            decode_batch_into(black_box(&bytes), &mut out).expect("whole records");
            black_box(out.len())
        })
    });
    // What a harness worker's generator does: senders in the interleaved shards of one of two
    // lanes, receivers anywhere.
    let lane_like = engine::Engine::new(engine::Config {
        accounts: ACCOUNTS,
        ..engine::Config::default()
    })
    .expect("valid genesis");
    let ranges = lane_like
        .shards_for_worker(0, 2)
        .into_iter()
        .map(|s| lane_like.shard_range(s))
        .collect();
    let mut lane_gen = Generator::new(GenConfig::uniform(ACCOUNTS, 2), ranges, None);
    group.bench_function("generate/uniform/lane-of-2/b1024", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            lane_gen.fill(&mut out, 1024);
            black_box(out.len())
        })
    });
    group.bench_function("generate/uniform/b1024", |b| {
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            g.fill(&mut out, 1024);
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, apply, codec);
criterion_main!(benches);

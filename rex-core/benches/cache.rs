//! Cache read/write costs: memory hit (goal < 1 µs), disk hit (goal: a few ms at most),
//! and a store with and without fsync.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use rex_core::cache::{Cache, CacheKey, Lookup, NewEntry};
use rex_core::config::CacheSettings;
use std::hint::black_box;

const REG: &str = "localhost:5000";

fn tag_list(n: usize) -> NewEntry {
    NewEntry::names((0..n).map(|i| format!("v1.{i}.0")).collect())
        .with_etag(Some("\"etag\"".into()))
}

fn manifest() -> NewEntry {
    // A typical multi-layer image manifest is 1-3 KB.
    NewEntry::bytes(
        format!(
            "{{\"schemaVersion\":2,\"layers\":[{}]}}",
            "{\"digest\":\"sha256:0123456789abcdef\",\"size\":1234},".repeat(30)
        )
        .into_bytes(),
    )
    .with_media_type(Some("application/vnd.oci.image.manifest.v1+json".into()))
}

fn open(dir: &std::path::Path, memory: bool, fsync: bool) -> Cache {
    let mut s = CacheSettings::default();
    if !memory {
        s.limits.memory_entries = 0;
    }
    Cache::builder(dir)
        .settings(&s)
        .fsync(fsync)
        .cleanup_on_open(false)
        .open()
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let digest = format!("sha256:{}", "ab".repeat(32));
    let mkey = CacheKey::manifest(REG, "team/app", &digest);
    let tkey = CacheKey::tags(REG, "team/app");

    let cache = open(dir.path(), true, true);
    cache.put(&mkey, manifest());
    cache.put(&tkey, tag_list(1000));
    // Fill the memory tier so the hit is a lookup among many entries.
    for i in 0..900 {
        cache.put(&CacheKey::tags(REG, format!("repo{i}")), tag_list(3));
    }
    c.bench_function("memory hit (manifest)", |b| {
        b.iter(|| assert!(matches!(cache.get(black_box(&mkey)), Lookup::Fresh(_))))
    });
    c.bench_function("memory hit (1000 tags)", |b| {
        b.iter(|| assert!(matches!(cache.get(black_box(&tkey)), Lookup::Fresh(_))))
    });

    let disk_only = open(dir.path(), false, true);
    c.bench_function("disk hit (manifest)", |b| {
        b.iter(|| assert!(matches!(disk_only.get(black_box(&mkey)), Lookup::Fresh(_))))
    });
    c.bench_function("disk hit (1000 tags)", |b| {
        b.iter(|| assert!(matches!(disk_only.get(black_box(&tkey)), Lookup::Fresh(_))))
    });

    let mut group = c.benchmark_group("store manifest");
    group.sample_size(20);
    for fsync in [true, false] {
        let cache = open(dir.path(), true, fsync);
        let name = if fsync { "fsync" } else { "no fsync" };
        group.bench_function(name, |b| {
            b.iter_batched(manifest, |m| cache.put(&mkey, m), BatchSize::SmallInput)
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

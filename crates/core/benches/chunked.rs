//! aws-chunked encoding throughput beside its limit, plain SHA-256 of the same bytes (every
//! chunk is hashed once, then signed with one HMAC of a short string): the ratio is the cost
//! of framing, copying into the chunk buffer and signing. `cargo bench -p sigv4-core --bench
//! chunked`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use sigv4_core::{
    ChecksumAlgorithm, ChunkEncoder, ChunkSigner, ChunkedUpload, Credentials, Settings,
    SigningParams, StreamingForm, Timestamp,
};
use std::hint::black_box;

const BODY: usize = 4 * 1024 * 1024;

fn encode(mut encoder: ChunkEncoder, body: &[u8]) -> usize {
    let mut written = 0;
    for mut piece in body.chunks(16 * 1024) {
        while !piece.is_empty() {
            if let Some(frame) = encoder.push(&mut piece).unwrap() {
                written += frame.len();
            }
        }
    }
    let finish = encoder.finish().unwrap();
    written + finish.last.map_or(0, |f| f.len()) + finish.end.len()
}

fn bench(c: &mut Criterion) {
    let credentials = Credentials::new("AKIDEXAMPLE", "secret", None).unwrap();
    let params = SigningParams {
        credentials: &credentials,
        region: "us-east-1",
        service: "s3",
        time: Timestamp::from_unix_seconds(1_700_000_000).unwrap(),
        settings: Settings::for_service("s3"),
    };
    let body = vec![0x5au8; BODY];
    let mut group = c.benchmark_group("chunked_4MiB");
    group.throughput(Throughput::Bytes(BODY as u64));
    group.bench_function("sha256_plain", |b| {
        b.iter(|| Sha256::digest(black_box(&body[..])))
    });
    let forms = [
        ("signed", StreamingForm::Signed, None),
        (
            "signed_crc32c_trailer",
            StreamingForm::SignedWithTrailer,
            Some(ChecksumAlgorithm::Crc32c),
        ),
        (
            "unsigned_crc32_trailer",
            StreamingForm::UnsignedWithTrailer,
            Some(ChecksumAlgorithm::Crc32),
        ),
    ];
    for (name, form, checksum) in forms {
        let upload = ChunkedUpload::new(form, BODY as u64, 64 * 1024, checksum).unwrap();
        let signer = ChunkSigner::new(&params, &"0".repeat(64)).unwrap();
        group.bench_function(BenchmarkId::new("encode_64KiB_chunks", name), |b| {
            b.iter(|| encode(ChunkEncoder::new(&upload, signer.clone()), black_box(&body)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Load on `policy-site receive`: durable consent records per second and
//! p99 latency at concurrency 1, 8, 64 and 256, on SQLite and on
//! PostgreSQL (the server `tests/setup.sh` starts on 127.0.0.1:54329, or
//! `POLICY_SITE_TEST_POSTGRES`). The receiver runs as its own process; this
//! one is the client, on loopback, with keep-alive connections, each level
//! bounded in time. Every acknowledged record is then counted in the store.
//!
//! `cargo bench --bench receive` (set `RECEIVE_BENCH_SECONDS`, default 3).

#[path = "../tests/common/receive.rs"]
mod receiving;

use receiving::{postgres_database, Receiving, BIN};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

const SITE: &str = "https://policies.example.org";

/// A record whose id is a UUID v4 made from `label`, as the receiver requires.
fn record(label: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    label.hash(&mut hasher);
    let h = hasher.finish();
    let id = format!(
        "{:08x}-0000-4000-8000-{:012x}",
        h >> 32,
        h & 0xffff_ffff_ffff
    );
    format!(
        r#"{{"schema":"consent-record.v1","record_id":"{id}","consent_id":"0be0c400-0000-4000-8000-000000000000","action":"customize","categories":{{"necessary":true,"analytics":true,"marketing":false}},"policy":"privacy","version":"2025-01-30","lang":"en","gpc":false,"time":"2025-02-03T14:07:12.345Z","banner_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","revision":"3fa1c29b0d4e7a61","page":"/en/privacy/"}}"#
    )
}

/// One POST on a kept-alive connection; the status.
fn exchange(stream: &mut BufReader<TcpStream>, body: &str) -> u16 {
    let request = format!(
        "POST /consent HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nOrigin: {SITE}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).unwrap();
    status
}

/// `clients` connections posting for `seconds`: acknowledged records and
/// every latency in microseconds.
fn load(port: u16, clients: usize, seconds: f64, tag: &str) -> (usize, Vec<u64>) {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let tag = tag.to_string();
            thread::spawn(move || {
                let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream.set_nodelay(true).unwrap();
                let mut stream = BufReader::new(stream);
                let mut latencies = Vec::new();
                let mut i = 0;
                while Instant::now() < until {
                    let started = Instant::now();
                    let status = exchange(&mut stream, &record(&format!("{tag}-{c}-{i}")));
                    assert_eq!(status, 201);
                    latencies.push(started.elapsed().as_micros() as u64);
                    i += 1;
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for handle in handles {
        all.extend(handle.join().unwrap());
    }
    (all.len(), all)
}

fn stored(db: &str) -> usize {
    let out = Command::new(BIN)
        .args(["consents", "export", "--db", db])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout.iter().filter(|b| **b == b'\n').count()
}

fn bench(name: &str, db: &str, seconds: f64) {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiving::start(db, SITE, dir.path(), &[]);
    let mut acknowledged = 0;
    for clients in [1, 8, 64, 256] {
        let (count, mut latencies) =
            load(receiver.port, clients, seconds, &format!("{name}{clients}"));
        acknowledged += count;
        latencies.sort_unstable();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        println!(
            "{name:<10} c={clients:<4} {:>7.0} records/s   p50 {:>6.1} ms   p99 {:>6.1} ms",
            count as f64 / seconds,
            at(0.50) as f64 / 1000.0,
            at(0.99) as f64 / 1000.0
        );
    }
    let kept = stored(db);
    assert_eq!(
        kept, acknowledged,
        "{name}: acknowledged {acknowledged}, stored {kept}"
    );
    println!("{name:<10} every one of {acknowledged} acknowledged records is stored");
}

fn main() {
    let seconds: f64 = std::env::var("RECEIVE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("receipts.sqlite").display().to_string();
    bench("sqlite", &sqlite, seconds);
    bench("postgres", &postgres_database("receive_bench"), seconds);
}

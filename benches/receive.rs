//! Load on `policy-site receive`: durable consent records per second and
//! p99 latency at concurrency 1, 8, 64 and 256, on SQLite and on
//! PostgreSQL (the server `tests/setup.sh` starts on 127.0.0.1:54329, or
//! `POLICY_SITE_TEST_POSTGRES`). The receiver runs as its own process; this
//! one is the client, on loopback, with keep-alive connections, each level
//! bounded in time. Every acknowledged record is then counted in the store.
//!
//! Then notifications, on SQLite: rights requests at concurrency 64 with
//! and without a webhook (each request then queues its delivery in its own
//! transaction), and a backlog of 10,000 deliveries, left by a webhook
//! endpoint that was down, draining while requests keep arriving: how long
//! it takes, and intake meanwhile as a ratio of intake without it.
//!
//! `cargo bench --bench receive` (set `RECEIVE_BENCH_SECONDS`, default 3).

#[path = "../tests/common/receive.rs"]
mod receiving;

use receiving::{postgres_database, Endpoint, Receiving, BIN};
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

/// A rights request whose id is a UUID v4 made from `label`, from a
/// requester of its own.
fn rights_request(label: &str) -> String {
    let consent = record(label);
    let id = &consent[consent.find("\"record_id\":\"").unwrap() + 13..][..36];
    format!(
        r#"{{"schema":"rights-request.v1","request_id":"{id}","right":"access","policy":"privacy","version":"2025-01-30","lang":"en","submitted_at":"2025-02-01T10:00:00Z","fields":{{"name":"Ana Lima","email":"ana+{label}@example.org"}},"website":""}}"#
    )
}

/// What the load posts: consent records or rights requests.
#[derive(Clone, Copy)]
enum Kind {
    Consent,
    Request,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Consent => "/consent",
            Kind::Request => "/requests",
        }
    }

    fn body(self, label: &str) -> String {
        match self {
            Kind::Consent => record(label),
            Kind::Request => rights_request(label),
        }
    }
}

/// One POST on a kept-alive connection; the status.
fn exchange(stream: &mut BufReader<TcpStream>, kind: Kind, label: &str) -> u16 {
    let body = kind.body(label);
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nOrigin: {SITE}\r\nContent-Length: {}\r\n\r\n{body}",
        kind.path(),
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
fn load(port: u16, kind: Kind, clients: usize, seconds: f64, tag: &str) -> (usize, Vec<u64>) {
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
                    let status = exchange(&mut stream, kind, &format!("{tag}-{c}-{i}"));
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
        let (count, mut latencies) = load(
            receiver.port,
            Kind::Consent,
            clients,
            seconds,
            &format!("{name}{clients}"),
        );
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
    notifications(seconds);
}

/// `receive` on `db` with `extra` flags and the webhooks' signing secret.
fn receiving(db: &str, dir: &std::path::Path, extra: &[&str]) -> Receiving {
    let mut command = Command::new(BIN);
    command.env("POLICY_SITE_WEBHOOK_SECRET", "bench-secret");
    Receiving::start_with(command, db, SITE, dir, extra)
}

/// Requests per second at concurrency 64.
fn intake(receiver: &Receiving, seconds: f64, tag: &str) -> f64 {
    let (count, _) = load(receiver.port, Kind::Request, 64, seconds, tag);
    count as f64 / seconds
}

const BACKLOG: usize = 10_000;

fn notifications(seconds: f64) {
    let dir = tempfile::tempdir().unwrap();
    let db = |name: &str| dir.path().join(name).display().to_string();
    let plain = intake(
        &receiving(&db("plain.sqlite"), dir.path(), &[]),
        seconds,
        "plain",
    );
    let endpoint = Endpoint::start(0, &[], Duration::ZERO);
    let hooked = receiving(
        &db("hooked.sqlite"),
        dir.path(),
        &["--webhook", &endpoint.url()],
    );
    let notified = intake(&hooked, seconds, "hooked");
    drop(hooked);
    println!("requests   c=64   {plain:>7.0} requests/s without notifications, {notified:>7.0} with a webhook ({:.2}x)", notified / plain);

    // The backlog: requests stored while the webhook's endpoint was down
    // (nothing listens on its port), the receiver then stopped; their
    // back-off is over by the time the endpoint is back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let backlog_db = db("backlog.sqlite");
    {
        let down = receiving(&backlog_db, dir.path(), &["--webhook", &url]);
        let stored = load_count(down.port, BACKLOG);
        assert_eq!(stored, BACKLOG);
    }
    let outbox = rusqlite::Connection::open(&backlog_db).unwrap();
    let waiting: usize = outbox
        .query_row(
            "SELECT COUNT(*) FROM deliveries WHERE delivered_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, BACKLOG);
    outbox
        .execute(
            "UPDATE deliveries SET next_at = '2000-01-01T00:00:00.000Z', claimed_until = NULL",
            [],
        )
        .unwrap();
    let endpoint = Endpoint::start(port, &[], Duration::ZERO);
    let started = Instant::now();
    let back = receiving(&backlog_db, dir.path(), &["--webhook", &url]);
    let during = intake(&back, seconds, "during");
    let arrived = |got: &[(receiving::Hook, u16)]| {
        got.iter()
            .map(|(hook, _)| hook.delivery_id())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    let got = endpoint.wait(Duration::from_secs(600), |got| arrived(got) >= BACKLOG);
    let drained = started.elapsed().as_secs_f64();
    assert!(
        arrived(&got) >= BACKLOG,
        "only {} of {BACKLOG} delivered",
        arrived(&got)
    );
    println!(
        "backlog    {BACKLOG} deliveries drained in {drained:.1} s ({:.0}/s) while intake ran at {during:.0} requests/s ({:.2}x of intake without a backlog)",
        BACKLOG as f64 / drained,
        during / notified
    );
}

/// Posts `total` rights requests over 64 connections; how many were stored.
fn load_count(port: u16, total: usize) -> usize {
    let per = total / 64;
    let handles: Vec<_> = (0..64)
        .map(|c| {
            thread::spawn(move || {
                let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                let mut stream = BufReader::new(stream);
                (0..per + usize::from(c < total % 64))
                    .filter(|i| {
                        exchange(&mut stream, Kind::Request, &format!("backlog-{c}-{i}")) == 201
                    })
                    .count()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).sum()
}

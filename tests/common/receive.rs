//! Running `policy-site receive` for tests and the load benchmark: the
//! process on a free port, a fresh PostgreSQL database on the server
//! `tests/setup.sh` starts (127.0.0.1:54329, or `POLICY_SITE_TEST_POSTGRES`),
//! and the operator commands' JSON Lines.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_policy-site");

/// A `receive` process, killed when dropped.
pub struct Receiving {
    pub child: Child,
    pub port: u16,
    pub db: String,
}

impl Drop for Receiving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiving {
    /// Starts `receive` in `dir` on `db`, allowing `origin`, and waits
    /// (at most 30 s) until it listens.
    pub fn start(db: &str, origin: &str, dir: &Path, extra: &[&str]) -> Receiving {
        Receiving::start_with(Command::new(BIN), db, origin, dir, extra)
    }

    /// As `start`, with at most `files` open file descriptors.
    pub fn start_with_open_files(db: &str, origin: &str, dir: &Path, files: u64) -> Receiving {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(BIN);
        unsafe {
            command.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: files,
                    rlim_max: files,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        Receiving::start_with(command, db, origin, dir, &[])
    }

    pub fn start_with(
        mut command: Command,
        db: &str,
        origin: &str,
        dir: &Path,
        extra: &[&str],
    ) -> Receiving {
        let mut child = command
            .args([
                "receive",
                "--port",
                "0",
                "--db",
                db,
                "--allow-origin",
                origin,
            ])
            .args(extra)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Keep draining, so the receiver never waits on its terminal.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("receive did not start in time");
        assert!(line.starts_with("Receiving on"), "{line}");
        // "Receiving on http://ADDRESS:PORT/requests …", whatever the address.
        let port = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|host| host.rsplit(':').next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in `{line}`"));
        Receiving {
            child,
            port,
            db: db.to_string(),
        }
    }

    /// What an operator command prints as JSON Lines, on this store.
    pub fn operator(&self, args: &[&str]) -> Vec<Value> {
        operator(&self.db, args)
    }
}

/// `policy-site ARGS --db DB`, which must succeed and print JSON Lines.
pub fn operator(db: &str, args: &[&str]) -> Vec<Value> {
    let out = Command::new(BIN)
        .args(args)
        .args(["--db", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("torn line {l:?}: {e}")))
        .collect()
}

/// A fresh, empty database on the test PostgreSQL server; its URL.
pub fn postgres_database(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let server = std::env::var("POLICY_SITE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:54329".into());
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    on_postgres_server(&server, &format!("CREATE DATABASE {name}"));
    format!("{server}/{name}")
}

/// Drops a database `postgres_database` made, cutting its connections.
pub fn drop_postgres_database(url: &str) {
    let (server, name) = url.rsplit_once('/').unwrap();
    on_postgres_server(server, &format!("DROP DATABASE {name} WITH (FORCE)"));
}

/// Adds a console operator to the store at `db`, the password on stdin.
pub fn add_operator(db: &str, name: &str, role: &str, password: &str) {
    use std::process::Stdio;
    let mut child = Command::new(BIN)
        .args(["operators", "add", name, "--role", role, "--db", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    assert!(child.wait().unwrap().success(), "operators add {name}");
}

impl Receiving {
    /// POSTs `body` as JSON from the allowed `origin`; the status.
    pub fn post_json(&self, path: &str, origin: &str, body: &str) -> u16 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nOrigin: {origin}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }
}

/// Runs `sql` on the test server's `postgres` database.
fn on_postgres_server(server: &str, sql: &str) {
    on_postgres(&format!("{server}/postgres"), sql).unwrap();
}

/// Runs `sql` on one PostgreSQL database; what the server answered when
/// it refused.
pub fn on_postgres(url: &str, sql: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("no PostgreSQL at {url} ({e}): run `bash tests/setup.sh`"));
        tokio::spawn(connection);
        client.batch_execute(sql).await.map_err(|e| {
            use std::error::Error;
            e.source().map_or_else(|| e.to_string(), |s| s.to_string())
        })
    })
}

/// One POST a webhook endpoint received.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Hook {
    pub fn delivery_id(&self) -> String {
        self.headers["policy-site-delivery"].clone()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A webhook endpoint on loopback: answers each POST with the next status
/// of `script` (then 200), after `delay`; what it received, in order.
pub struct Endpoint {
    pub port: u16,
    received: Arc<Mutex<Vec<(Hook, u16)>>>,
}

impl Endpoint {
    pub fn start(port: u16, script: &[u16], delay: Duration) -> Endpoint {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<(Hook, u16)>>> = Arc::default();
        let script = Arc::new(Mutex::new(script.to_vec()));
        {
            let received = received.clone();
            thread::spawn(move || {
                for stream in listener.incoming().map_while(Result::ok) {
                    let (received, script) = (received.clone(), script.clone());
                    thread::spawn(move || answer_hook(stream, &received, &script, delay));
                }
            });
        }
        Endpoint { port, received }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn received(&self) -> Vec<(Hook, u16)> {
        self.received.lock().unwrap().clone()
    }

    /// Waits (at most `within`) until `done` holds of what arrived.
    pub fn wait(
        &self,
        within: Duration,
        done: impl Fn(&[(Hook, u16)]) -> bool,
    ) -> Vec<(Hook, u16)> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if done(&got) || start.elapsed() > within {
                return got;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

fn answer_hook(
    mut stream: TcpStream,
    received: &Mutex<Vec<(Hook, u16)>>,
    script: &Mutex<Vec<u16>>,
    delay: Duration,
) {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let (head, mut body) = loop {
        let Ok(n) = stream.read(&mut buffer) else {
            return;
        };
        if n == 0 {
            return;
        }
        bytes.extend_from_slice(&buffer[..n]);
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&bytes[..at]).into_owned(),
                bytes[at + 4..].to_vec(),
            );
        }
    };
    let headers: BTreeMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while body.len() < length {
        let Ok(n) = stream.read(&mut buffer) else {
            return;
        };
        if n == 0 {
            return;
        }
        body.extend_from_slice(&buffer[..n]);
    }
    thread::sleep(delay);
    let status = {
        let mut script = script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    let hook = Hook {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    received.lock().unwrap().push((hook, status));
    let _ = stream.write_all(
        format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes(),
    );
}

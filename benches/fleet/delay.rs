//! Round-trip time without netem (this kernel has none): a user-space TCP proxy in
//! front of each host's sshd. Every chunk read from one side is written to the other
//! RTT/2 later, in order, so a request and its answer cost one RTT as on a WAN link.
//! Threads, not async: a listener per host, two per direction of each live connection.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Listens on a loopback port of its own and forwards every connection to `upstream`.
pub struct DelayProxy {
    pub port: u16,
}

impl DelayProxy {
    /// A proxy adding `rtt` (half each way) in front of 127.0.0.1:`upstream`. Its
    /// threads live as long as the bench process.
    pub fn start(upstream: u16, rtt: Duration) -> std::io::Result<DelayProxy> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let port = listener.local_addr()?.port();
        let one_way = rtt / 2;
        thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                for client in listener.incoming().flatten() {
                    match TcpStream::connect(("127.0.0.1", upstream)) {
                        Ok(server) => relay(client, server, one_way),
                        Err(e) => eprintln!("delay proxy: cannot reach sshd on {upstream}: {e}"),
                    }
                }
            })?;
        Ok(DelayProxy { port })
    }
}

fn relay(client: TcpStream, server: TcpStream, one_way: Duration) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    pump(client, server, one_way);
    pump(server2, client2, one_way);
}

/// `from` → `to`, each chunk held until `one_way` after it was read. EOF travels the
/// same way (a half-close after the delay), so ssh sees the stream end in order.
fn pump(mut from: TcpStream, mut to: TcpStream, one_way: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let spawn = |f: Box<dyn FnOnce() + Send>| {
        let _ = thread::Builder::new().stack_size(64 * 1024).spawn(f);
    };
    spawn(Box::new(move || {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx.send((Instant::now() + one_way, Vec::new()));
                    return;
                }
                Ok(n) => {
                    if tx
                        .send((Instant::now() + one_way, buf[..n].to_vec()))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    }));
    spawn(Box::new(move || {
        for (due, chunk) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if chunk.is_empty() {
                let _ = to.shutdown(Shutdown::Write);
                return;
            }
            if to.write_all(&chunk).is_err() {
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
    }));
}

//! A TCP proxy in front of the emulator, to make the store unreachable or stalled on demand.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinSet;

const FORWARD: u8 = 0;
const REFUSE: u8 = 1;
const STALL: u8 = 2;

/// Forwards 127.0.0.1:<port> to `target`, unless told to refuse or stall.
pub struct Proxy {
    address: SocketAddr,
    mode: Arc<AtomicU8>,
    tasks: Option<JoinSet<()>>,
    target: SocketAddr,
}

fn listen(address: SocketAddr) -> TcpListener {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket.bind(address).expect("bind proxy");
    socket.listen(64).expect("listen")
}

impl Proxy {
    pub fn start(target: &str) -> Self {
        let target: SocketAddr = target
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .expect("an http://IP:PORT endpoint");
        let listener = listen("127.0.0.1:0".parse().unwrap());
        let address = listener.local_addr().expect("address");
        let mut proxy = Self {
            address,
            mode: Arc::new(AtomicU8::new(FORWARD)),
            tasks: None,
            target,
        };
        proxy.serve(listener);
        proxy
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn serve(&mut self, listener: TcpListener) {
        let mut tasks = JoinSet::new();
        let (mode, target) = (Arc::clone(&self.mode), self.target);
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mode = Arc::clone(&mode);
                connections.spawn(async move {
                    if mode.load(Ordering::SeqCst) == STALL {
                        // Hold the connection open and say nothing.
                        std::future::pending::<()>().await;
                    }
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        self.tasks = Some(tasks);
    }

    /// Closes the port and every open connection: the store is unreachable.
    pub async fn refuse(&mut self) {
        self.mode.store(REFUSE, Ordering::SeqCst);
        if let Some(mut tasks) = self.tasks.take() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
    }

    /// Accepts connections but never answers: every call times out.
    pub async fn stall(&mut self) {
        self.refuse().await;
        self.mode.store(STALL, Ordering::SeqCst);
        let listener = listen(self.address);
        self.serve(listener);
    }

    /// Forwards again on the same port.
    pub async fn forward(&mut self) {
        self.refuse().await;
        self.mode.store(FORWARD, Ordering::SeqCst);
        let listener = listen(self.address);
        self.serve(listener);
    }
}

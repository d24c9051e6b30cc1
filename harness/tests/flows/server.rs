//! A test server that checks what it receives, for the feeder, check and flow tests:
//!
//! - `POST /login` with a body `{"user":"<id>"}` issues a fresh token: `{"token":"tok-<n>"}`,
//!   and `x-session: s-<n>`; every token it issued is remembered.
//! - `GET /items/<id>` answers 200 `{"ok":true,"id":"<id>"}` only with `authorization: Bearer
//!   <a token it issued>`, else 401 (and counts the refusal).
//! - `GET /rows/<value>` records `<value>` in arrival order and answers `{"ok":true}`.
//! - `GET /wrong` answers 200 `{"ok":false}`.
//!
//! Loopback port 0; it lives as long as the test process (a thread with its own runtime).

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    pub issued: Vec<String>,
    /// Requests to /items with a token the server did not issue (or none).
    pub refused: u64,
    /// Tokens that came back on /items, in order.
    pub used: Vec<String>,
    /// `/rows/<value>` values in arrival order.
    pub rows: Vec<String>,
    pub logins: u64,
}

pub struct Server {
    pub url: String,
    pub seen: Arc<Mutex<Seen>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(serve(listener, log));
        });
        Server {
            url: format!("http://{addr}"),
            seen,
        }
    }

    pub fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }
}

async fn serve(listener: std::net::TcpListener, seen: Arc<Mutex<Seen>>) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(req, Arc::clone(&seen)));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Seen>>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let path = req.uri().path().to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let mut s = seen.lock().unwrap();
    let json = |status: u16, text: String| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(text)))
            .unwrap()
    };
    let resp = if path == "/login" {
        let ok = body.is_ok_and(|b| b.starts_with(b"{\"user\":\""));
        if !ok {
            json(400, "{\"error\":\"no user\"}".into())
        } else {
            s.logins += 1;
            let token = format!("tok-{}", s.logins);
            s.issued.push(token.clone());
            let mut r = json(200, format!("{{\"token\":\"{token}\"}}"));
            let session = format!("s-{}", s.logins).parse().unwrap();
            r.headers_mut().insert("x-session", session);
            r
        }
    } else if let Some(id) = path.strip_prefix("/items/") {
        let token = auth.as_deref().and_then(|a| a.strip_prefix("Bearer "));
        match token.filter(|t| s.issued.iter().any(|i| i == t)) {
            Some(t) => {
                s.used.push(t.to_string());
                json(200, format!("{{\"ok\":true,\"id\":\"{id}\"}}"))
            }
            None => {
                s.refused += 1;
                json(401, "{\"error\":\"bad token\"}".into())
            }
        }
    } else if let Some(v) = path.strip_prefix("/rows/") {
        s.rows.push(v.to_string());
        json(200, "{\"ok\":true}".into())
    } else {
        json(200, "{\"ok\":false}".into())
    };
    Ok(resp)
}

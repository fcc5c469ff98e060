//! The listener loop: TLS handshakes, HTTP/1.1 connections, graceful shutdown.
//!
//! `serve` takes its listener and its shutdown future from the caller (the binary binds the
//! configured address and waits for SIGTERM; tests bind 127.0.0.1:0 and drop a channel). A
//! handshake that fails (a TLS 1.2 client, a port scanner) costs only that connection. On
//! shutdown the loop stops accepting and gives open requests a grace period to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::api::{self, State};

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves the API over TLS on `listener` until `shutdown` resolves.
pub async fn serve(
    state: State,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(crate::tls::server_config(state.cert.clone()));
    let app = api::router(state.clone());
    let graceful = GracefulShutdown::new();
    let maintenance = tokio::spawn(maintain(state.clone()));
    let sinks = tokio::spawn(crate::sink::push::run(state.clone()));
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(tls), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    maintenance.abort();
    sinks.abort();
    let _ = sinks.await;
    crate::sink::push::release(&state).await;
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open requests did not finish within the grace period");
    }
    state.access.flush().await;
    Ok(())
}

/// Background upkeep: forgets nonces whose window has passed.
async fn maintain(state: State) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        if let Err(e) = state.store.prune_nonces(crate::clock::now_ms()).await {
            tracing::warn!(error = %e, "pruning nonces failed; will retry");
        }
    }
}

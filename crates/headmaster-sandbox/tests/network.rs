//! No network unless allowed. The test owns the listeners, so a refusal is checked on both
//! ends: the command fails, and nothing arrived.

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};

use headmaster_sandbox::{Exit, NetworkAccess, Outcome};

use crate::fixture::Sandbox;

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// True when a connection is waiting. The command has ended by the time this is called, so a
/// connection it made is already in the backlog: no waiting needed.
fn connected(listener: &TcpListener) -> bool {
    match listener.accept() {
        Ok(_) => true,
        Err(error) if error.kind() == ErrorKind::WouldBlock => false,
        Err(error) => panic!("accept failed: {error}"),
    }
}

fn tcp_connect(sandbox: &Sandbox, port: u16) -> Outcome {
    sandbox.sh(&format!(
        "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}' && echo connected"
    ))
}

fn udp_send(sandbox: &Sandbox, port: u16) -> Outcome {
    sandbox.sh(&format!(
        "bash -c 'echo datagram > /dev/udp/127.0.0.1/{port}' && echo sent"
    ))
}

fn udp_receiver() -> (UdpSocket, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_nonblocking(true).unwrap();
    let port = socket.local_addr().unwrap().port();
    (socket, port)
}

fn received(socket: &UdpSocket) -> bool {
    let mut buffer = [0u8; 64];
    match socket.recv(&mut buffer) {
        Ok(n) => &buffer[..n] == b"datagram\n",
        Err(error) if error.kind() == ErrorKind::WouldBlock => false,
        Err(error) => panic!("recv failed: {error}"),
    }
}

#[test]
fn tcp_connect_is_refused_by_default() {
    let (listener, port) = listener();
    let sandbox = Sandbox::new();
    let outcome = tcp_connect(&sandbox, port);
    assert_ne!(outcome.exit, Exit::Code(0));
    assert_eq!(outcome.stdout.text(), "");
    assert!(
        outcome.stderr.text().contains("Operation not permitted"),
        "{}",
        outcome.stderr.text()
    );
    assert!(!connected(&listener));
}

#[test]
fn tcp_connect_succeeds_to_an_allowed_port() {
    let (listener, port) = listener();
    let mut sandbox = Sandbox::new();
    sandbox.config.network = NetworkAccess::TcpConnect(vec![port]);
    let outcome = tcp_connect(&sandbox, port);
    assert_eq!(
        outcome.stdout.text(),
        "connected\n",
        "{}",
        outcome.stderr.text()
    );
    assert!(connected(&listener));
}

#[test]
fn tcp_connect_to_a_port_not_allowed_is_refused() {
    let (_allowed, allowed_port) = listener();
    let (other, other_port) = listener();
    let mut sandbox = Sandbox::new();
    sandbox.config.network = NetworkAccess::TcpConnect(vec![allowed_port]);
    let outcome = tcp_connect(&sandbox, other_port);
    assert_ne!(outcome.exit, Exit::Code(0));
    assert!(
        outcome.stderr.text().contains("Permission denied"),
        "{}",
        outcome.stderr.text()
    );
    assert!(!connected(&other));
}

#[test]
fn tcp_connect_succeeds_with_unrestricted_network() {
    let (listener, port) = listener();
    let mut sandbox = Sandbox::new();
    sandbox.config.network = NetworkAccess::Unrestricted;
    let outcome = tcp_connect(&sandbox, port);
    assert_eq!(
        outcome.stdout.text(),
        "connected\n",
        "{}",
        outcome.stderr.text()
    );
    assert!(connected(&listener));
}

#[test]
fn udp_is_refused_by_default_and_with_tcp_ports() {
    let (socket, port) = udp_receiver();
    for network in [NetworkAccess::Denied, NetworkAccess::TcpConnect(vec![port])] {
        let mut sandbox = Sandbox::new();
        sandbox.config.network = network.clone();
        let outcome = udp_send(&sandbox, port);
        assert_ne!(outcome.exit, Exit::Code(0), "{network:?}");
        assert!(
            outcome.stderr.text().contains("Operation not permitted"),
            "{}",
            outcome.stderr.text()
        );
        assert!(!received(&socket), "{network:?}: a datagram arrived");
    }
}

#[test]
fn udp_works_with_unrestricted_network() {
    let (socket, port) = udp_receiver();
    let mut sandbox = Sandbox::new();
    sandbox.config.network = NetworkAccess::Unrestricted;
    let outcome = udp_send(&sandbox, port);
    assert_eq!(outcome.stdout.text(), "sent\n", "{}", outcome.stderr.text());
    assert!(received(&socket));
}

#[test]
fn unix_sockets_are_refused_even_with_unrestricted_network() {
    let mut sandbox = Sandbox::new();
    sandbox.config.network = NetworkAccess::Unrestricted;
    let outcome = sandbox.sh(
        "python3 -c 'import socket; socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)' && echo created",
    );
    assert_eq!(outcome.stdout.text(), "");
    assert!(
        outcome.stderr.text().contains("PermissionError"),
        "{}",
        outcome.stderr.text()
    );
}

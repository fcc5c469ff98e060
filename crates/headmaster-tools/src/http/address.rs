//! Which IP addresses are not on the public internet, and why.
//!
//! A request is refused if *any* address its host resolves to is in one of these ranges (an
//! attacker who controls a DNS name can return one public and one internal address and hope
//! the connection picks the second). IPv6 forms that embed an IPv4 address (mapped, compatible,
//! NAT64, 6to4) are judged by the embedded address, so `[::ffff:127.0.0.1]` is loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

const V4_RANGES: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\" 0.0.0.0/8"),
    (v4(10, 0, 0, 0, 8), "private network 10.0.0.0/8"),
    (v4(100, 64, 0, 0, 10), "carrier-grade NAT 100.64.0.0/10"),
    (v4(127, 0, 0, 0, 8), "loopback 127.0.0.0/8"),
    (
        v4(169, 254, 0, 0, 16),
        "link-local 169.254.0.0/16 (cloud metadata services live here)",
    ),
    (v4(172, 16, 0, 0, 12), "private network 172.16.0.0/12"),
    (
        v4(192, 0, 0, 0, 24),
        "IETF protocol assignments 192.0.0.0/24",
    ),
    (v4(192, 0, 2, 0, 24), "documentation range 192.0.2.0/24"),
    (v4(192, 88, 99, 0, 24), "6to4 relay anycast 192.88.99.0/24"),
    (v4(192, 168, 0, 0, 16), "private network 192.168.0.0/16"),
    (v4(198, 18, 0, 0, 15), "benchmarking range 198.18.0.0/15"),
    (
        v4(198, 51, 100, 0, 24),
        "documentation range 198.51.100.0/24",
    ),
    (v4(203, 0, 113, 0, 24), "documentation range 203.0.113.0/24"),
    (v4(224, 0, 0, 0, 4), "multicast 224.0.0.0/4"),
    (
        v4(240, 0, 0, 0, 4),
        "reserved 240.0.0.0/4 (includes broadcast 255.255.255.255)",
    ),
];

const V6_RANGES: &[(Ipv6Net, &str)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), "unspecified address ::"),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), "loopback ::1"),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        "local-use NAT64 64:ff9b:1::/48",
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64),
        "discard-only 100::/64",
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23),
        "IETF protocol assignments 2001::/23 (includes Teredo)",
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        "documentation range 2001:db8::/32",
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20),
        "documentation range 3fff::/20",
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7),
        "unique-local fc00::/7",
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "link-local fe80::/10",
    ),
    (
        v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10),
        "site-local fec0::/10",
    ),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), "multicast ff00::/8"),
];

/// The range `ip` belongs to if it is not a public unicast address, described for a person.
pub fn non_public_range(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(ip) => v4_range(ip).map(str::to_owned),
        IpAddr::V6(ip) => v6_range(ip),
    }
}

fn v4_range(ip: Ipv4Addr) -> Option<&'static str> {
    V4_RANGES
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, label)| *label)
}

fn v6_range(ip: Ipv6Addr) -> Option<String> {
    if let Some((form, embedded)) = embedded_v4(ip) {
        return v4_range(embedded).map(|label| format!("{form} of {embedded}, {label}"));
    }
    V6_RANGES
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map(|(_, label)| (*label).to_owned())
}

/// The IPv4 address carried inside an IPv6 form, and the form's name.
fn embedded_v4(ip: Ipv6Addr) -> Option<(&'static str, Ipv4Addr)> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if let Some(mapped) = ip.to_ipv4_mapped() {
        return Some(("IPv4-mapped IPv6 address", mapped));
    }
    // `::a.b.c.d` (deprecated IPv4-compatible form); `::` and `::1` are judged as IPv6 below.
    if s[..6] == [0; 6] && !(s[6] == 0 && s[7] <= 1) {
        return Some(("IPv4-compatible IPv6 address", low));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(("NAT64 address", low));
    }
    if s[0] == 0x2002 {
        let six_to_four =
            Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return Some(("6to4 address", six_to_four));
    }
    None
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(s: [u16; 8], len: u8) -> Ipv6Net {
    Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        len,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        non_public_range(text.parse().unwrap())
    }

    #[test]
    fn refuses_every_internal_ipv4_range() {
        for (ip, expected) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.0.0.1", "private network 10."),
            ("172.16.0.1", "private network 172.16."),
            ("172.31.255.255", "private network 172.16."),
            ("192.168.1.1", "private network 192.168."),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "carrier-grade NAT"),
            ("0.0.0.0", "\"this network\""),
            ("224.0.0.251", "multicast"),
            ("255.255.255.255", "reserved 240."),
            ("192.0.2.7", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.7", "documentation"),
        ] {
            let label = refused(ip).unwrap_or_else(|| panic!("{ip} was accepted"));
            assert!(label.starts_with(expected), "{ip}: {label}");
        }
    }

    #[test]
    fn refuses_ipv6_ranges_and_embedded_ipv4_forms() {
        for (ip, expected) in [
            ("::1", "loopback ::1"),
            ("::", "unspecified"),
            ("fe80::1", "link-local fe80"),
            ("fd00::1", "unique-local"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation range 2001:db8::/32"),
            ("2001::1", "IETF protocol assignments"),
            (
                "::ffff:127.0.0.1",
                "IPv4-mapped IPv6 address of 127.0.0.1, loopback",
            ),
            (
                "::ffff:169.254.169.254",
                "IPv4-mapped IPv6 address of 169.254.169.254, link-local",
            ),
            ("::10.0.0.1", "IPv4-compatible IPv6 address of 10.0.0.1"),
            ("64:ff9b::7f00:1", "NAT64 address of 127.0.0.1"),
            ("2002:7f00:1::", "6to4 address of 127.0.0.1"),
        ] {
            let label = refused(ip).unwrap_or_else(|| panic!("{ip} was accepted"));
            assert!(label.starts_with(expected), "{ip}: {label}");
        }
    }

    #[test]
    fn accepts_public_addresses() {
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert_eq!(refused(ip), None, "{ip}");
        }
    }
}

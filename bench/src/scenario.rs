//! The benchmark scenario of `cedar/SCENARIO.md`: 50 users in four nested roles, contractors,
//! suspended and on-call users, 12 tools in 7 groups, and 10,000 varied requests generated
//! from a fixed seed so every run (and both engines) sees the same ones.

/// The four roles, lowest first; each nests inside the next (Admin in Approver in Operator in
/// Viewer).
pub const ROLES: [&str; 4] = ["Viewer", "Operator", "Approver", "Admin"];

/// The 12 tools of the policies, as `tool.action`.
pub const TOOLS: [&str; 12] = [
    "file.read",
    "file.list",
    "db.read",
    "file.write",
    "file.delete",
    "email.send",
    "slack.post",
    "calendar.create",
    "http.request",
    "db.write",
    "shell.exec",
    "payments.refund",
];

/// The 7 tool groups and their members. `read`, `files` and `comms` are named by the policies;
/// the other four give every tool a home.
pub const GROUPS: [(&str, &[&str]); 7] = [
    ("read", &["file.read", "file.list", "db.read"]),
    (
        "files",
        &["file.read", "file.list", "file.write", "file.delete"],
    ),
    ("comms", &["email.send", "slack.post", "calendar.create"]),
    ("net", &["http.request"]),
    ("data", &["db.read", "db.write"]),
    ("exec", &["shell.exec"]),
    ("finance", &["payments.refund"]),
];

/// One user.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    /// Index into [`ROLES`].
    pub role: usize,
    pub contractor: bool,
    pub suspended: bool,
    pub oncall: bool,
}

/// One request: who proposes which tool with which context.
#[derive(Debug, Clone)]
pub struct Request {
    pub user: usize,
    pub tool: usize,
    pub recipient_domain: &'static str,
    pub recipient_count: i64,
    pub path_prefix: &'static str,
    pub http_method: &'static str,
    pub crosses_boundary: bool,
    pub amount: i64,
}

/// 5 Admins, 10 Approvers, 20 Operators, 15 Viewers; 8 contractors across the lower three
/// roles; 2 suspended; 10 on call (mostly Operators, so p18 has work to do).
pub fn users() -> Vec<User> {
    (0..50)
        .map(|i| User {
            id: format!("u{i:02}"),
            role: match i {
                0..=4 => 3,
                5..=14 => 2,
                15..=34 => 1,
                _ => 0,
            },
            contractor: matches!(i, 12 | 13 | 20..=24 | 40),
            suspended: matches!(i, 7 | 30),
            oncall: matches!(i, 0 | 5 | 6 | 15..=19 | 25 | 26),
        })
        .collect()
}

const DOMAINS: [&str; 9] = [
    "acme.com",
    "acme.com",
    "partner.io",
    "vendor.net",
    "gmail.com",
    "mail.ru",
    "yandex.ru",
    "mailinator.com",
    "example.org",
];
const PATHS: [&str; 11] = [
    "drafts/q3.md",
    "tmp/scratch.txt",
    "sandbox/run.sh",
    "secrets/api.key",
    "app/.env",
    "prod/orders",
    "src/main.rs",
    "docs/readme.md",
    "tmp/.env",
    "drafts/",
    "sandbox/",
];
const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/// `n` requests from `seed`.
pub fn requests(n: usize, seed: u64) -> Vec<Request> {
    let mut rng = SplitMix64(seed);
    (0..n)
        .map(|_| Request {
            user: rng.below(50),
            tool: rng.below(TOOLS.len()),
            recipient_domain: DOMAINS[rng.below(DOMAINS.len())],
            // Mostly small mailings, sometimes bulk ones past the 5 and 20 thresholds.
            recipient_count: if rng.below(5) == 0 {
                rng.below(40) as i64
            } else {
                rng.below(8) as i64
            },
            path_prefix: PATHS[rng.below(PATHS.len())],
            http_method: METHODS[rng.below(METHODS.len())],
            crosses_boundary: rng.below(10) < 4,
            amount: match rng.below(4) {
                0 => rng.below(501) as i64,
                1 => 500 + rng.below(2) as i64,
                2 => rng.below(12_000) as i64,
                _ => 9_990 + rng.below(20) as i64,
            },
        })
        .collect()
}

/// SplitMix64: tiny, fast and fully deterministic, which is all a workload generator needs.
#[derive(Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

//! The seccomp half of the sandbox: system calls Landlock does not cover.
//!
//! Three BPF programs, compiled in the parent and installed by the child just before `execve`:
//!
//! 1. **Refused with `EPERM`**:
//!    - `socket()` by address family, per [`NetworkAccess`]: everything when the network is
//!      denied (Landlock ABI 7 governs TCP only, so UDP, raw, netlink, vsock and pathname Unix
//!      sockets would otherwise stay open); only IPv4/IPv6 `SOCK_STREAM` for
//!      [`NetworkAccess::TcpConnect`]; IPv4/IPv6/netlink when unrestricted.
//!    - debugging other processes: `ptrace`, `process_vm_readv`, `process_vm_writev`;
//!    - mounts and namespaces: `mount`, `umount2`, `pivot_root`, `chroot`, the new mount API
//!      (`fsopen`, `fsconfig`, `fsmount`, `fspick`, `move_mount`, `open_tree`,
//!      `mount_setattr`), `unshare`, `setns`, and `clone` with any `CLONE_NEW*` flag;
//!    - the kernel itself: `kexec_load`, `kexec_file_load`, `init_module`, `finit_module`,
//!      `delete_module`, `bpf`, `perf_event_open`, `userfaultfd`, `swapon`, `swapoff`,
//!      `reboot`, `acct`;
//!    - kernel keyrings, which can hold the app's secrets: `keyctl`, `add_key`, `request_key`;
//!    - `io_uring_setup`/`enter`/`register`, whose ring performs socket and file operations
//!      without passing through this filter;
//!    - `open_by_handle_at` and `name_to_handle_at` (file handles bypass path checks);
//!    - `setsid` and `setpgid` when the process tree is held together by its process group
//!      (no PID namespace, see [`crate::Containment`]), so no descendant can leave the group
//!      that the parent kills.
//! 2. **`clone3` fails with `ENOSYS`**: its flags sit in memory a filter cannot read, and
//!    `ENOSYS` (not `EPERM`) makes glibc fall back to `clone`, whose flags are checked above.
//! 3. **x32 system calls fail with `ENOSYS`** on x86_64: they share the x86_64 audit
//!    architecture but use other numbers, so they would slip past the rules above.
//!
//! Everything else is allowed: the filter narrows a shell, it does not replace Landlock.

use std::collections::BTreeMap;

use seccompiler::{
    sock_filter, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use crate::{NetworkAccess, SandboxError};

/// The architecture the filter is compiled for, or `None` where seccompiler cannot build one
/// (the sandbox then refuses to run).
pub(crate) fn target_arch() -> Option<TargetArch> {
    TargetArch::try_from(std::env::consts::ARCH).ok()
}

/// Compiles the programs for this policy. `lock_process_group` adds the `setsid`/`setpgid` ban.
pub(crate) fn build(
    network: &NetworkAccess,
    lock_process_group: bool,
    arch: TargetArch,
) -> Result<Vec<BpfProgram>, SandboxError> {
    let mut refused: BTreeMap<i64, Vec<SeccompRule>> = ALWAYS_REFUSED
        .iter()
        .map(|number| (*number, Vec::new()))
        .collect();
    refused.insert(libc::SYS_socket, socket_rules(network)?);
    refused.insert(libc::SYS_clone, namespace_clone_rules()?);
    if lock_process_group {
        refused.insert(libc::SYS_setsid, Vec::new());
        refused.insert(libc::SYS_setpgid, Vec::new());
    }
    let refuse = SeccompFilter::new(
        refused,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )?;
    let no_clone3 = SeccompFilter::new(
        BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        arch,
    )?;
    let mut programs = vec![
        BpfProgram::try_from(refuse)?,
        BpfProgram::try_from(no_clone3)?,
    ];
    if arch == TargetArch::x86_64 {
        programs.push(x32_refusal());
    }
    Ok(programs)
}

const ALWAYS_REFUSED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
];

/// Rules under which `socket(domain, type, protocol)` is refused; an empty list refuses every
/// call. Conditions inside one rule must all hold; any matching rule refuses.
fn socket_rules(network: &NetworkAccess) -> Result<Vec<SeccompRule>, SandboxError> {
    let domain_not = |family: i32| condition(0, SeccompCmpOp::Ne, family as u64);
    Ok(match network {
        NetworkAccess::Denied => Vec::new(),
        NetworkAccess::TcpConnect(_) => {
            let mut rules = vec![SeccompRule::new(vec![
                domain_not(libc::AF_INET)?,
                domain_not(libc::AF_INET6)?,
            ])?];
            // The low four bits of `type` are the socket type; the rest are flags such as
            // SOCK_CLOEXEC. Refuse every type but SOCK_STREAM.
            for socket_type in (0..16u64).filter(|t| *t != libc::SOCK_STREAM as u64) {
                rules.push(SeccompRule::new(vec![condition(
                    1,
                    SeccompCmpOp::MaskedEq(0xf),
                    socket_type,
                )?])?);
            }
            rules
        }
        NetworkAccess::Unrestricted => vec![SeccompRule::new(vec![
            domain_not(libc::AF_INET)?,
            domain_not(libc::AF_INET6)?,
            domain_not(libc::AF_NETLINK)?,
        ])?],
    })
}

/// `clone` is refused when its flags ask for any new namespace.
fn namespace_clone_rules() -> Result<Vec<SeccompRule>, SandboxError> {
    const NAMESPACE_FLAGS: [i32; 8] = [
        libc::CLONE_NEWNS,
        libc::CLONE_NEWCGROUP,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWTIME,
    ];
    NAMESPACE_FLAGS
        .iter()
        .map(|flag| {
            let flag = *flag as u64;
            Ok(SeccompRule::new(vec![SeccompCondition::new(
                0,
                SeccompCmpArgLen::Qword,
                SeccompCmpOp::MaskedEq(flag),
                flag,
            )?])?)
        })
        .collect()
}

fn condition(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, SandboxError> {
    Ok(SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Dword,
        op,
        value,
    )?)
}

/// A hand-written program: on x86_64, any system call number with the x32 bit set fails with
/// `ENOSYS`; everything else passes to the other filters.
fn x32_refusal() -> BpfProgram {
    const LOAD_WORD: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JUMP_EQUAL: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const JUMP_AT_LEAST: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    const RETURN: u16 = 0x06; // BPF_RET | BPF_K
    const NR_OFFSET: u32 = 0; // seccomp_data.nr
    const ARCH_OFFSET: u32 = 4; // seccomp_data.arch
    const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let op = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    vec![
        op(LOAD_WORD, 0, 0, ARCH_OFFSET),
        op(JUMP_EQUAL, 0, 3, AUDIT_ARCH_X86_64),
        op(LOAD_WORD, 0, 0, NR_OFFSET),
        op(JUMP_AT_LEAST, 0, 1, X32_SYSCALL_BIT),
        op(RETURN, 0, 0, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        op(RETURN, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::ErrorKind;
    use std::net::{TcpListener, UdpSocket};

    /// Installs the programs on a fresh thread (seccomp filters are per thread without TSYNC),
    /// runs `probe` there, and returns its result; the test's other threads stay unfiltered.
    fn under_filter<T: Send + 'static>(
        network: NetworkAccess,
        probe: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let programs = build(&network, true, target_arch().unwrap()).unwrap();
        std::thread::spawn(move || {
            for program in &programs {
                seccompiler::apply_filter(program).unwrap();
            }
            probe()
        })
        .join()
        .unwrap()
    }

    fn refused(result: std::io::Result<impl Sized>) -> bool {
        matches!(result, Err(e) if e.raw_os_error() == Some(libc::EPERM))
    }

    #[test]
    fn denied_network_refuses_udp_and_tcp_sockets() {
        let (udp, tcp) = under_filter(NetworkAccess::Denied, || {
            (
                refused(UdpSocket::bind("127.0.0.1:0")),
                refused(TcpListener::bind("127.0.0.1:0")),
            )
        });
        assert!(udp && tcp);
    }

    #[test]
    fn tcp_only_network_allows_stream_sockets_but_not_udp() {
        let (udp, tcp) = under_filter(NetworkAccess::TcpConnect(vec![80]), || {
            (
                refused(UdpSocket::bind("127.0.0.1:0")),
                TcpListener::bind("127.0.0.1:0").is_ok(),
            )
        });
        assert!(udp, "UDP socket was created");
        assert!(tcp, "TCP socket was refused by seccomp");
    }

    #[test]
    fn unrestricted_network_allows_udp() {
        let udp = under_filter(NetworkAccess::Unrestricted, || {
            UdpSocket::bind("127.0.0.1:0")
        });
        assert!(udp.is_ok());
    }

    #[test]
    fn process_group_lock_refuses_setpgid() {
        let result = under_filter(NetworkAccess::Denied, || {
            rustix::process::setpgid(None, None).map_err(std::io::Error::from)
        });
        assert_eq!(result.unwrap_err().kind(), ErrorKind::PermissionDenied);
    }
}

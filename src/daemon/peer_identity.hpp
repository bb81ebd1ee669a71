// Who is at the other end of a control connection, established once, when the
// daemon accepts it, from the kernel:
//
// - uid, gid and pid from SO_PEERCRED: the credentials the peer had when it called
//   connect(2), whatever it did since;
// - a pidfd of that peer: SO_PEERPIDFD (Linux 6.5) names the connecting process
//   itself; on older kernels pidfd_open(2) of the pid, kept only when that process
//   started before the connection was accepted (a process started later cannot be
//   the peer: its pid was reused);
// - its effective capabilities (CAP_SYS_NICE, CAP_SYS_PTRACE) from /proc/PID/status,
//   trusted only when the pidfd still names a live process with that pid after the
//   read (so the file read was the peer's, not a successor's).
//
// A peer whose capabilities cannot be established this way (it exited, it lives in
// another pid namespace) keeps its uid and has no capability: it is refused what
// needs one, never given it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "daemon/engine/daemon_protocol.hpp"
#include "linux/sysfs.hpp"

namespace affine::daemon {

// The peer of the accepted unix socket `fd`, read under `fs`'s root. uid -1 (nobody)
// when the socket has no peer credentials.
protocol::PeerCredentials peer_identity(int fd, const linux_backend::SysFs& fs);

// The effective capability set of a /proc/PID/status text ("CapEff:" in hex);
// nullopt when the line is missing or not hex.
std::optional<std::uint64_t> effective_capabilities(std::string_view status);

// Capability numbers (linux/capability.h).
inline constexpr int cap_sys_ptrace = 19;
inline constexpr int cap_sys_nice = 23;

}  // namespace affine::daemon

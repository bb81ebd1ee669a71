// The public Linux functions: the backend over the live system (real system calls,
// procfs and sysfs under "/", the live topology).
#include "affine/host.hpp"
#include "affine/linux.hpp"
#include "procfs.hpp"

namespace affine {
namespace {

using linux_backend::Env;

template <typename F>
auto with_live_env(F&& body) -> decltype(body(std::declval<const Env&>())) {
    auto host = read_linux_topology("/");
    if (!host) return std::unexpected(host.error());
    linux_backend::SysFs fs("/");
    Env env{fs, linux_backend::real_syscalls(), *host};
    return body(env);
}

}  // namespace

Result<ProcessPlacement> read_process_placement(int pid_or_tid, ThreadSelection threads) {
    return with_live_env([&](const Env& env) { return linux_backend::read_process_placement(env, pid_or_tid, threads); });
}

Result<PinReport> pin_threads(int pid, const CpuSet& cpus, ThreadScope scope) {
    return with_live_env([&](const Env& env) { return linux_backend::pin_threads(env, pid, cpus, scope); });
}

Result<BindReport> bind_task(int pid, const CpuSet& mask) {
    return with_live_env([&](const Env& env) { return linux_backend::bind_task(env, pid, mask); });
}

Result<AppliedPolicy> apply_launch_policy(const LaunchPolicy& policy) {
    return with_live_env([&](const Env& env) { return linux_backend::apply_launch_policy(env, policy); });
}

ExecFailure exec_with_policy(const LaunchPolicy& policy, const std::vector<std::string>& argv) {
    auto host = read_linux_topology("/");
    if (!host) return {host.error(), 1};
    linux_backend::SysFs fs("/");
    Env env{fs, linux_backend::real_syscalls(), *host};
    return linux_backend::exec_with_policy(env, policy, argv);
}

Result<MigrationReport> migrate_process_memory(int pid, const NodeSet& to) {
    return with_live_env([&](const Env& env) { return linux_backend::migrate_process_memory(env, pid, to); });
}

Result<ShieldReport> shield_cpus(const ShieldOptions& options) {
    return with_live_env([&](const Env& env) { return linux_backend::shield_cpus(env, options); });
}

Result<UndoReport> undo_shield(const std::string& state_file) {
    return with_live_env([&](const Env& env) { return linux_backend::undo_shield(env, state_file); });
}

}  // namespace affine

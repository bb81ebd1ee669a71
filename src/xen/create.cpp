#include "create.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "affine/set_grammar.hpp"
#include "affine/size.hpp"

extern char** environ;

namespace affine::xen {

Result<CreateLock> CreateLock::acquire(const std::string& path) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) {
        int code = errno;
        return failure(fmt::format("lock {}: {}", path, std::strerror(code)), code);
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        int code = errno;
        return failure(fmt::format("lock {}: {}", path, std::strerror(code)), code);
    }
    return CreateLock(std::move(fd));
}

std::string create_lock_path(std::string_view host_spec) {
    if (host_spec.starts_with("sim:")) return fmt::format("{}.create-lock", host_spec.substr(4));
    // The real host.
    const char* dir = std::getenv("AFFINE_RUN_DIR");
    return fmt::format("{}/xen-create.lock", dir != nullptr && *dir != '\0' ? dir : "/run/affine");
}

std::string xl_binary() {
    const char* xl = std::getenv("AFFINE_XL");
    return xl != nullptr && *xl != '\0' ? xl : "xl";
}

Result<int> run_program(const std::vector<std::string>& argv) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::fflush(stdout);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
    if (rc != 0) return failure(fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)), rc);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno == EINTR) continue;
        int code = errno;
        return failure(fmt::format("waiting for {}: {}", argv[0], std::strerror(code)), code);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

std::string shell_command_line(const std::vector<std::string>& argv) {
    std::string out;
    for (const std::string& a : argv) {
        if (!out.empty()) out += ' ';
        const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "0123456789_-./=:,+@%") == std::string::npos;
        if (plain) {
            out += a;
            continue;
        }
        out += '\'';
        for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += '\'';
    }
    return out;
}

Result<int> sim_xl_create(Hypervisor& hv, const XlDomain& domain) {
    SimulationControl* sim = hv.simulation();
    if (sim == nullptr) return failure("building a domain without xl needs a simulated host");
    auto topology = hv.topology();
    if (!topology) return std::unexpected(topology.error());
    NewDomain d;
    d.max_vcpus = domain.max_vcpus;
    d.allocated_vcpus = domain.max_vcpus;
    d.memory_bytes = domain.memory_mib << 20;
    d.name = domain.name;
    d.vcpu_hard.assign(static_cast<std::size_t>(domain.max_vcpus), topology->all_cpus());
    d.vcpu_soft = d.vcpu_hard;
    if (domain.cpus) {
        auto masks = resolve_xl_cpus(*domain.cpus, domain.max_vcpus, *topology, "cpus");
        if (!masks) return std::unexpected(masks.error());
        d.vcpu_hard = *masks;
    }
    if (domain.cpus_soft) {
        auto masks = resolve_xl_cpus(*domain.cpus_soft, domain.max_vcpus, *topology, "cpus_soft");
        if (!masks) return std::unexpected(masks.error());
        d.vcpu_soft = *masks;
    }
    return sim->create_domain(d);
}

Result<void> set_memory_target(Hypervisor& hv, int domid, std::uint64_t bytes) {
    if (SimulationControl* sim = hv.simulation()) return sim->set_memory_target(domid, bytes);
    // xl takes the target in KiB units or with a suffix; whole MiB here.
    const std::vector<std::string> argv{xl_binary(), "mem-set", std::to_string(domid),
                                        fmt::format("{}m", bytes >> 20)};
    auto status = run_program(argv);
    if (!status) return std::unexpected(status.error());
    if (*status != 0) return failure(fmt::format("{} exited with status {}", shell_command_line(argv), *status));
    return {};
}

bool target_populated(std::uint64_t memory_bytes, std::uint64_t target_bytes) {
    return memory_bytes + (2ULL << 20) + target_bytes / 256 >= target_bytes;
}

namespace {

Result<std::uint64_t> domain_memory(Hypervisor& hv, int domid) {
    auto domains = hv.domains();
    if (!domains) return std::unexpected(domains.error());
    for (const DomainInfo& d : *domains)
        if (d.domid == domid) return d.memory_bytes;
    return failure(fmt::format("domain {} is gone", domid), ESRCH);
}

}  // namespace

PopulateOutcome populate_preferred_first(Hypervisor& hv, int domid, const PreferredFirstSteps& steps,
                                         std::chrono::milliseconds timeout,
                                         const std::function<void(const std::string&)>& say) {
    using clock = std::chrono::steady_clock;
    PopulateOutcome out;
    auto stop = [&](std::string error) {
        out.error = std::move(error);
        if (auto memory = domain_memory(hv, domid)) out.memory_bytes = *memory;
        return out;
    };
    for (const PopulateStep& step : steps.populate) {
        if (auto set = hv.set_node_affinity(domid, NodeSet{step.node}); !set)
            return stop(fmt::format("node affinity {}: {}", step.node, set.error().message));
        const auto start = clock::now();
        if (auto raised = set_memory_target(hv, domid, step.target_bytes); !raised)
            return stop(fmt::format("raising the target to {}: {}", format_size(step.target_bytes),
                                    raised.error().message));
        std::uint64_t memory = 0;
        for (;;) {
            auto read = domain_memory(hv, domid);
            if (!read) return stop(read.error().message);
            memory = *read;
            if (target_populated(memory, step.target_bytes)) break;
            if (clock::now() - start >= timeout)
                return stop(fmt::format("the guest did not populate its target of {}M within {} s after node "
                                        "affinity {} (it holds {})",
                                        step.target_bytes >> 20,
                                        std::chrono::duration_cast<std::chrono::seconds>(timeout).count(), step.node,
                                        format_size(memory)));
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        const std::chrono::duration<double> took = clock::now() - start;
        ++out.steps_done;
        say(fmt::format("node {}: +{}, target {}M populated in {:.2f} s (the domain holds {})", step.node,
                        format_size(step.share_bytes), step.target_bytes >> 20, took.count(),
                        format_size(memory)));
    }
    if (auto set = hv.set_node_affinity(domid, steps.final_node_affinity); !set)
        return stop(fmt::format("node affinity {}: {}", to_list(steps.final_node_affinity), set.error().message));
    say(fmt::format("node affinity {} (the nodes used)", to_list(steps.final_node_affinity)));
    out.completed = true;
    if (auto memory = domain_memory(hv, domid)) out.memory_bytes = *memory;
    return out;
}

}  // namespace affine::xen

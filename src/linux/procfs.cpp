#include "procfs.hpp"

#include <fmt/format.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "affine/set_grammar.hpp"
#include "core/integer.hpp"
#include "core/safe_text.hpp"
#include "core/text.hpp"

namespace affine::linux_backend {
namespace {

using detail::lines_of;
using detail::parse_integer;
using detail::words_of;

std::vector<int> numeric_names(const SysFs& fs, std::string_view dir) {
    std::vector<int> ids;
    for (const auto& name : fs.list(dir))
        if (auto id = parse_integer<int>(name)) ids.push_back(*id);
    std::ranges::sort(ids);
    return ids;
}

std::string user_name(unsigned uid) {
    passwd pw{};
    passwd* found = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found != nullptr)
        return fmt::format("uid {} ({})", uid, found->pw_name);
    return fmt::format("uid {}", uid);
}

}  // namespace

std::optional<TaskStat> parse_task_stat(std::string_view text) {
    auto open = text.find('(');
    auto close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::nullopt;
    TaskStat st;
    st.comm = detail::safe_text(text.substr(open + 1, close - open - 1));  // any bytes a process wrote
    auto fields = words_of(text.substr(close + 1));
    // fields[0] is field 3 of the man page (state); field N is fields[N - 3].
    auto field = [&](int n) -> std::string_view {
        auto i = static_cast<std::size_t>(n - 3);
        return i < fields.size() ? fields[i] : std::string_view{};
    };
    if (field(3).empty()) return std::nullopt;
    st.state = field(3)[0];
    st.flags = parse_integer<unsigned long>(field(9)).value_or(0);
    st.utime = parse_integer<unsigned long long>(field(14)).value_or(0);
    st.stime = parse_integer<unsigned long long>(field(15)).value_or(0);
    st.threads = parse_integer<int>(field(20)).value_or(0);
    st.start_time = parse_integer<unsigned long long>(field(22)).value_or(0);
    st.rss_pages = parse_integer<unsigned long long>(field(24)).value_or(0);
    st.processor = parse_integer<int>(field(39));
    return st;
}

std::vector<MappingPlacement> parse_numa_maps(std::string_view text) {
    std::vector<MappingPlacement> maps;
    for (std::string_view line : lines_of(text)) {
        auto words = words_of(line);
        if (words.size() < 2) continue;
        MappingPlacement m;
        m.address = std::string(words[0]);
        m.policy = std::string(words[1]);
        std::size_t first = 2;
        // The one policy name with a space (Linux 6.9+): "weighted interleave:0-1".
        if (words[1] == "weighted" && words.size() > 2 && words[2].starts_with("interleave")) {
            m.policy += " " + std::string(words[2]);
            first = 3;
        }
        std::uint64_t page_bytes = 4096;
        std::map<int, std::uint64_t> pages;
        for (std::size_t i = first; i < words.size(); ++i) {
            auto w = words[i];
            if (w.starts_with("kernelpagesize_kB=")) {
                page_bytes = parse_integer<std::uint64_t>(w.substr(18)).value_or(4) * 1024;
            } else if (w.size() > 1 && w[0] == 'N' && std::isdigit(static_cast<unsigned char>(w[1]))) {
                auto eq = w.find('=');
                if (eq == std::string_view::npos) continue;
                auto node = parse_integer<int>(w.substr(1, eq - 1));
                auto n = parse_integer<std::uint64_t>(w.substr(eq + 1));
                if (node && n) pages[*node] += *n;
            } else if (w.starts_with("mapmax=")) {
                m.mapped_max = parse_integer<int>(w.substr(7)).value_or(1);
            } else if (w.starts_with("file=") || w == "heap" || w == "stack" || w == "huge" ||
                       w.starts_with("stack:")) {
                if (m.backing.empty()) m.backing = std::string(w);
            }
        }
        if (m.backing.empty()) m.backing = "anon";
        for (auto [node, n] : pages) m.bytes_per_node[node] = n * page_bytes;
        maps.push_back(std::move(m));
    }
    return maps;
}

std::map<int, std::uint64_t> bytes_per_node(const std::vector<MappingPlacement>& mappings) {
    std::map<int, std::uint64_t> total;
    for (const auto& m : mappings)
        for (auto [node, bytes] : m.bytes_per_node) total[node] += bytes;
    return total;
}

std::map<int, std::uint64_t> own_bytes_per_node(const std::vector<MappingPlacement>& mappings) {
    std::map<int, std::uint64_t> total;
    for (const auto& m : mappings)
        if (!m.shared_file())
            for (auto [node, bytes] : m.bytes_per_node) total[node] += bytes;
    return total;
}

std::string task_dir(int tid) { return fmt::format("/proc/{}/task/{}", tid, tid); }

std::string process_dir(int pid) { return fmt::format("/proc/{}", pid); }

std::vector<int> list_threads(const SysFs& fs, int pid) { return numeric_names(fs, fmt::format("/proc/{}/task", pid)); }

std::vector<int> list_processes(const SysFs& fs) { return numeric_names(fs, "/proc"); }

std::optional<TaskStat> read_task_stat(const SysFs& fs, int tid) {
    auto text = fs.read(task_dir(tid) + "/stat");
    if (!text) return std::nullopt;
    return parse_task_stat(*text);
}

std::optional<TaskStat> read_process_stat(const SysFs& fs, int pid) {
    auto text = fs.read(process_dir(pid) + "/stat");
    if (!text) return std::nullopt;
    return parse_task_stat(*text);
}

std::optional<std::string> read_task_status(const SysFs& fs, int tid) { return fs.read(task_dir(tid) + "/status"); }

std::optional<int> thread_group_of(const SysFs& fs, int tid) {
    auto status = read_task_status(fs, tid);
    if (!status) return std::nullopt;
    if (auto v = status_field(*status, "Tgid")) return parse_integer<int>(*v);
    return tid;
}

std::string read_task_cgroup(const SysFs& fs, int tid) {
    auto text = fs.read(task_dir(tid) + "/cgroup");
    if (!text) return {};
    for (std::string_view line : lines_of(*text))
        if (line.starts_with("0::")) return detail::safe_text(line.substr(3));  // names are the creator's bytes
    return {};
}

TaskCpuset read_task_cpuset(const Env& env, int tid) {
    TaskCpuset result{"", env.host.online_cpus()};
    auto line = env.fs.read_line(task_dir(tid) + "/cpuset");
    if (!line || line->empty() || (*line)[0] != '/') return result;
    result.path = *line;
    // The nearest cgroup up the path that has a cpuset file decides (a v2 cgroup
    // without the cpuset controller inherits its parent's CPUs).
    std::string path = *line;
    while (true) {
        std::string dir = path == "/" ? "" : path;
        for (const auto& file : {"/sys/fs/cgroup" + dir + "/cpuset.cpus.effective",
                                 "/sys/fs/cgroup/cpuset" + dir + "/cpuset.effective_cpus",
                                 "/sys/fs/cgroup/cpuset" + dir + "/cpuset.cpus"}) {
            if (auto text = env.fs.read(file)) {
                if (auto set = parse_id_list(*text); set && !set->empty()) {
                    result.cpus = *set;
                    return result;
                }
            }
        }
        if (path == "/") break;
        auto slash = path.rfind('/');
        path = slash == 0 ? "/" : path.substr(0, slash);
    }
    return result;
}

NodeSet read_allowed_nodes(const Env& env, int tid) {
    if (auto status = read_task_status(env.fs, tid))
        if (auto v = status_field(*status, "Mems_allowed_list"))
            if (auto s = parse_id_list(*v); s && !s->empty()) return NodeSet::from_words(s->words());
    return env.host.all_nodes();
}

std::string describe_task(const SysFs& fs, int tid) {
    if (auto st = read_task_stat(fs, tid)) return fmt::format("task {} ({})", tid, st->comm);
    return fmt::format("task {}", tid);
}

std::string explain_permission(const Env& env, int tid) {
    std::string owner = "another user";
    if (auto status = read_task_status(env.fs, tid))
        if (auto uids = status_uids(*status)) owner = user_name(uids->real);
    return fmt::format("no permission: {} belongs to {} and you are {}; CAP_SYS_NICE (e.g. root) would allow it",
                       describe_task(env.fs, tid), owner, user_name(env.sys.effective_uid()));
}

std::string explain_affinity_error(const Env& env, int tid, const CpuSet& cpus, int err) {
    switch (err) {
    case ESRCH: return fmt::format("no such task: {} (it exited)", tid);
    case EPERM: return explain_permission(env, tid);
    case EINVAL: {
        auto st = read_task_stat(env.fs, tid);
        if (st && (st->flags & pf_no_setaffinity) != 0)
            return fmt::format("{} is a kernel thread the kernel binds itself (PF_NO_SETAFFINITY): its affinity "
                               "cannot be changed",
                               describe_task(env.fs, tid));
        CpuSet online = env.host.online_cpus();
        if (!cpus.intersects(online))
            return fmt::format("CPUs {} are offline (online: {})", to_list(cpus), to_list(online));
        TaskCpuset cs = read_task_cpuset(env, tid);
        if (!cpus.intersects(cs.cpus))
            return fmt::format("CPUs {} are outside the cpuset of {} (cpuset {} allows CPUs {})", to_list(cpus),
                               describe_task(env.fs, tid), cs.path.empty() ? "/" : cs.path, to_list(cs.cpus));
        return fmt::format("the kernel refused CPUs {} for {} (EINVAL; e.g. a SCHED_DEADLINE task needs all "
                           "CPUs of its root domain)",
                           to_list(cpus), describe_task(env.fs, tid));
    }
    default: return fmt::format("{} ({})", std::strerror(err), describe_task(env.fs, tid));
    }
}

}  // namespace affine::linux_backend

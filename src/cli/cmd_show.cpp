// affine show: where a process's threads may run and where its memory lives.
#include <fmt/format.h>

#include "core/json.hpp"
#include "affine/interleave_weights.hpp"
#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "affine/size.hpp"
#include "command.hpp"
#include "help_format.hpp"
#include "daemon/control_client.hpp"
#include "json_output.hpp"
#include "linux_cli.hpp"
#include "soft_cli.hpp"

namespace affine::cli {
namespace {

detail::Json placement_json(const ProcessPlacement& p) {
    detail::Json j;
    j["pid"] = p.pid;
    j["command"] = p.command;
    j["uid"] = p.uid ? detail::Json(*p.uid) : detail::Json(nullptr);
    detail::Json threads = detail::Json::array();
    for (const auto& t : p.threads)
        threads.push_back({{"tid", t.tid},
                           {"name", t.name},
                           {"affinity", detail::ids_json(t.affinity)},
                           {"last_cpu", t.last_cpu ? detail::Json(*t.last_cpu) : detail::Json(nullptr)}});
    j["threads"] = std::move(threads);
    j["thread_count"] = p.thread_count;
    j["cpuset"] = p.cpuset.empty() ? detail::Json(nullptr) : detail::Json(p.cpuset);
    j["cpuset_cpus"] = detail::ids_json(p.cpuset_cpus);
    j["allowed_nodes"] = detail::ids_json(p.allowed_nodes);
    j["memory_bytes_per_node"] = detail::per_node_json(p.memory_bytes_per_node);
    j["local_nodes"] = detail::ids_json(p.local_nodes);
    j["local_memory_share"] = p.local_memory_share ? detail::Json(*p.local_memory_share) : detail::Json(nullptr);
    detail::Json maps = detail::Json::array();
    for (const auto& m : p.mappings)
        maps.push_back({{"address", m.address},
                        {"policy", m.policy},
                        {"backing", m.backing},
                        {"bytes_per_node", detail::per_node_json(m.bytes_per_node)}});
    j["mappings"] = std::move(maps);
    j["numa_balancing"] = p.numa_balancing ? detail::Json(*p.numa_balancing) : detail::Json(nullptr);
    if (!p.memory_note.empty()) j["memory_note"] = p.memory_note;
    return j;
}

// The pages of its weighted-interleave mappings per node, against the share the
// kernel's weights give each node of the policy.
void print_weighted_interleave_share(const ProcessPlacement& p) {
    const std::string_view prefix = "weighted interleave:";
    std::map<int, std::uint64_t> bytes;
    NodeSet nodes;
    for (const auto& m : p.mappings) {
        if (!m.policy.starts_with(prefix)) continue;
        if (auto set = parse_id_list(std::string_view(m.policy).substr(prefix.size())))
            nodes |= NodeSet::from_words(set->words());
        for (auto [n, b] : m.bytes_per_node) bytes[n] += b;
    }
    if (nodes.empty()) return;
    std::uint64_t total = 0;
    for (auto [n, b] : bytes) total += b;
    auto weights = read_interleave_weights();
    long weight_sum = 0;
    if (weights)
        for (int n : nodes) weight_sum += weights->weights.contains(n) ? weights->weights.at(n) : 0;
    std::string text;
    for (int n : nodes) {
        double share = total > 0 ? 100.0 * static_cast<double>(bytes[n]) / static_cast<double>(total) : 0.0;
        std::string expected = "weight unknown";
        if (weights && weights->weights.contains(n) && weight_sum > 0)
            expected = fmt::format("weight {}: {:.1f}%", weights->weights.at(n),
                                   100.0 * weights->weights.at(n) / static_cast<double>(weight_sum));
        text += fmt::format("{}node {} {:.1f}% ({})", text.empty() ? "" : ", ", n, share, expected);
    }
    fmt::print("  weighted interleave pages: {}\n", text);
}

void print_placement(const ProcessPlacement& p) {
    fmt::print("pid {} ({}){}\n", p.pid, p.command, p.uid ? fmt::format(", uid {}", *p.uid) : "");
    fmt::print("  cpuset {}: CPUs {}, nodes {}\n", p.cpuset.empty() ? "-" : p.cpuset, to_list(p.cpuset_cpus),
               to_list(p.allowed_nodes));
    for (const auto& t : p.threads)
        fmt::print("  thread {} ({}): affinity {}, last ran on CPU {}\n", t.tid, t.name, to_list(t.affinity),
                   t.last_cpu ? std::to_string(*t.last_cpu) : "?");
    if (int more = p.thread_count - static_cast<int>(p.threads.size()); more > 0)
        fmt::print("  ({} more thread{} not listed: --threads lists every one)\n", more, more == 1 ? "" : "s");
    if (!p.memory_note.empty()) {
        fmt::print("  memory: {}\n", p.memory_note);
    } else if (p.memory_bytes_per_node.empty()) {
        fmt::print("  memory: none resident\n");
    } else {
        std::uint64_t total = 0;
        for (auto [n, b] : p.memory_bytes_per_node) total += b;
        fmt::print("  memory: {} resident\n", format_size(total));
        for (auto [n, b] : p.memory_bytes_per_node)
            fmt::print("    node {}: {} ({:.0f}%){}\n", n, format_size(b),
                       100.0 * static_cast<double>(b) / static_cast<double>(total),
                       p.local_nodes.contains(n) ? "" : " remote");
        if (p.local_memory_share)
            fmt::print("  local to its CPUs (node {}): {:.1f}%\n", to_list(p.local_nodes), 100.0 * *p.local_memory_share);
    }
    std::map<std::string, int> policies;
    for (const auto& m : p.mappings) ++policies[m.policy];
    if (!policies.empty()) {
        std::string list;
        for (const auto& [policy, n] : policies) list += fmt::format("{}{} ({} mappings)", list.empty() ? "" : ", ", policy, n);
        fmt::print("  memory policy: {}\n", list);
    }
    print_weighted_interleave_share(p);
    if (p.numa_balancing.value_or(false))
        fmt::print("  automatic NUMA balancing is on: the kernel may move its pages and threads\n");
}

}  // namespace

Command show_command() {
    return {"show", "where a process's threads may run and where its memory is", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    std::vector<std::string> ids;
                    bool threads = false;
                    bool json = false;
                    bool mask = false;
                    std::string to = "list";
                };
                auto opt = std::make_shared<Options>();
                set_usage(sub, "show PID... [--threads] [--json[=compact|pretty]]\nshow PID... --mask [--to list|hex|kernel]");
                sub.add_option("PID", opt->ids, "process or thread ids")->required();
                sub.add_flag("--threads", opt->threads, "list every thread of the process");
                add_json_flag(sub, opt->json, "print JSON (one object, an array for several PIDs)");
                auto* mask = sub.add_flag("--mask", opt->mask,
                                          "print only the affinity of each PID or TID, one line each "
                                          "(as taskset -c -p)");
                auto* to = sub.add_option("--to", opt->to, "the form of --mask: list (default), hex or kernel")
                               ->check(CLI::IsMember({"list", "hex", "kernel"}));
                mask->excludes("--json")->excludes("--pretty")->excludes("--threads");
                to->excludes("--json")->excludes("--pretty")->excludes("--threads");
                return [opt] {
                    if (opt->mask || opt->to != "list") {
                        // Validate every id first: a script gets all lines or an error.
                        std::vector<CpuSet> masks;
                        for (const auto& text : opt->ids) {
                            auto p = value_or_throw(
                                read_process_placement(parse_task_id_or_throw(text), ThreadSelection::named));
                            masks.push_back(p.threads.empty() ? CpuSet{} : p.threads.front().affinity);
                        }
                        for (const CpuSet& m : masks)
                            fmt::print("{}\n", opt->to == "hex"      ? to_hex(m)
                                               : opt->to == "kernel" ? to_kernel_mask(m)
                                                                     : to_list(m));
                        return 0;
                    }
                    std::vector<int> ids;
                    for (const auto& text : opt->ids) ids.push_back(parse_task_id_or_throw(text));
                    // Every process that can be read is shown; one that cannot (it
                    // exited, it is not ours) gets an error line and exit status 1.
                    std::vector<ProcessPlacement> all;
                    std::vector<Error> errors;
                    for (int id : ids) {
                        auto p = read_process_placement(id, opt->threads ? ThreadSelection::all : ThreadSelection::named);
                        if (p) all.push_back(std::move(*p));
                        else errors.push_back(p.error());
                    }
                    if (ids.size() == 1 && !errors.empty()) throw_error(std::unexpected(errors.front()));
                    std::vector<int> pids;
                    for (const auto& p : all) pids.push_back(p.pid);
                    auto soft = managed_workloads(pids);
                    auto with_soft = [&](const ProcessPlacement& p) {
                        detail::Json j = placement_json(p);
                        auto w = soft.find(p.pid);
                        j["soft_affinity"] = w == soft.end() ? detail::Json(nullptr) : protocol::to_json(w->second);
                        return j;
                    };
                    if (opt->json) {
                        if (ids.size() == 1) {
                            print_json(with_soft(all.front()));
                        } else {
                            detail::Json a = detail::Json::array();
                            for (const auto& p : all) a.push_back(with_soft(p));
                            print_json(a);
                        }
                    } else {
                        for (const auto& p : all) {
                            print_placement(p);
                            if (auto w = soft.find(p.pid); w != soft.end()) {
                                fmt::print("  soft affinity (managed by the affine daemon):\n");
                                print_workload(w->second, "    ");
                            }
                        }
                    }
                    if (errors.empty()) return 0;
                    flush_output_or_throw();  // what was found first, then what was not
                    for (const auto& e : errors) fmt::print(stderr, "affine: {}\n", e.message);
                    return 1;
                };
            }};
}

}  // namespace affine::cli

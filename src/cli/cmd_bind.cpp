// affine bind PID MASK: the classic tool of Robert Love's "CPU Affinity" article.
#include <fmt/format.h>

#include "affine/linux.hpp"
#include "affine/set_grammar.hpp"
#include "command.hpp"
#include "linux_cli.hpp"

namespace affine::cli {
namespace {

// "%08lx" as in the article's listing, in the kernel's 32-bit comma groups beyond 32 CPUs.
std::string article_mask(const CpuSet& set) {
    std::string text = to_kernel_mask(set, 32);
    auto top = text.find(',');
    if (top == std::string::npos) top = text.size();
    if (top < 8) text.insert(0, 8 - top, '0');
    return text;
}

}  // namespace

Command bind_command() {
    return {"bind", "the classic bind PID MASK: decimal or 0x bit mask, bit 0 = CPU 0", [](CLI::App& sub, const CommandLine&) -> Action {
                struct Options {
                    std::string pid;
                    std::string mask;
                };
                auto opt = std::make_shared<Options>();
                sub.add_option("PID", opt->pid, "the task (thread) id")->required();
                sub.add_option("MASK", opt->mask, "CPU bit mask: 3 = CPUs 0 and 1, 0x4 = CPU 2")->required();
                return [opt] {
                    int pid = parse_task_id_or_throw(opt->pid);
                    CpuSet mask = value_or_throw(parse_cpu_mask(opt->mask));
                    BindReport r = value_or_throw(bind_task(pid, mask));
                    // The article's output, the mask as hex before and after, naming
                    // the task changed: a pid and a mask swapped must be visible.
                    fmt::print("pid {} ({}): old affinity {}\n", pid, r.command, article_mask(r.before));
                    fmt::print("pid {} ({}): new affinity {}\n", pid, r.command, article_mask(r.after));
                    if (!r.offline.empty())
                        fmt::print(stderr, "affine: note: CPU {} of the mask is offline; left out\n",
                                   to_list(r.offline));
                    if (!r.outside_cpuset.empty())
                        fmt::print(stderr, "affine: note: CPU {} is outside the task's cpuset; the kernel left it out\n",
                                   to_list(r.outside_cpuset));
                    return 0;
                };
            }};
}

}  // namespace affine::cli

// numad's command line and placement advice, answered by affine's planner.
#include "affine/numad_compat.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <optional>

#include "affine/set_grammar.hpp"
#include "core/integer.hpp"

namespace affine {
namespace {

constexpr std::string_view config_file = "/etc/affine/daemon.conf";

// Options of numad that take a value: its getopt string "C:dD:hH:i:K:l:p:r:R:S:t:u:vVw:x:"
// and -m, which its manual documents (and its getopt string forgets).
bool takes_value(char option) { return std::string_view("CDHiKlmprRStuwx").find(option) != std::string_view::npos; }
bool is_numad_option(char option) { return std::string_view("CdDhHiKlmprRStuvVwx").find(option) != std::string_view::npos; }

// Where each of numad's daemon options went in affine. Every message says what the
// option did in numad first, so the reader knows what is being refused.
std::string refusal(char option, const std::string& value) {
    std::string shown = value.empty() ? fmt::format("-{}", option) : fmt::format("-{} {}", option, value);
    switch (option) {
    case 'i':
        return fmt::format("numad {} (numad's scan interval, 0 stops its daemon): affine places running work "
                           "with `affine daemon`; set `interval` in {} (stop it with `systemctl stop affine`)",
                           shown, config_file);
    case 'p':
        return fmt::format("numad {} (manage this process): the affine daemon places the workloads its "
                           "[[rule]] entries name (comm, cgroup, uid, min_memory, min_cpu) in {}; add one and run "
                           "`affine daemon reload`, or place a process once with `affine place` and `affine pin`/"
                           "`affine migrate`",
                           shown, config_file);
    case 'x':
        return fmt::format("numad {} (never manage this process): the affine daemon leaves alone every workload "
                           "no [[rule]] names; to keep one out of a rule that would, list it in exclude_comm, "
                           "exclude_cgroup or exclude_uid in {}",
                           shown, config_file);
    case 'r':
        return fmt::format("numad {} (drop a process from numad's -p/-x lists): edit the [[rule]] entries in {} "
                           "and run `affine daemon reload`",
                           shown, config_file);
    case 'S':
        return fmt::format("numad {} (scan all processes, or only -p ones): the affine daemon places only what a "
                           "[[rule]] in {} names; numad's scan-all behaviour is the numad-like rule of the example "
                           "configuration (min_memory = \"300M\", min_cpu = 0.5)",
                           shown, config_file);
    case 'u':
        return fmt::format("numad {} (target CPU utilisation): affine plans with each node's measured load (busy "
                           "CPUs from /proc/stat), not a utilisation target; keep CPUs for other work with "
                           "reserved_cpus in {} (or -R with -w)",
                           shown, config_file);
    case 'm':
        return fmt::format("numad {} (target memory locality): the affine daemon moves all of a placed "
                           "workload's memory to its nodes; there is no locality threshold to set",
                           shown);
    case 't':
        return fmt::format("numad {} (weight of hyperthreads as CPUs): affine counts CPUs, or whole cores with "
                           "`affine place --cores`",
                           shown);
    case 'H':
        return fmt::format("numad {} (khugepaged's scan sleep): not affine's job; write "
                           "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs",
                           shown);
    case 'C':
        return fmt::format("numad {} (count inactive file cache as free): affine always counts a node's free "
                           "memory plus its inactive file cache as available (numad's default)",
                           shown);
    case 'K':
        return fmt::format("numad {} (keep interleaved memory spread): the affine daemon moves only the memory of "
                           "workloads a [[rule]] names; leave interleaved workloads out of the rules",
                           shown);
    default:
        return fmt::format("numad {}: not supported", shown);
    }
}

std::string daemon_refusal() {
    return fmt::format("numad without -w starts numad's daemon: affine places running work with `affine daemon` "
                       "(systemctl start affine) and the [[rule]] entries of {}; this command answers "
                       "`numad -w NCPUS[:MB]` (placement advice, as libvirt asks) — see `numad -h`",
                       config_file);
}

// A run of decimal digits: the one integer parser, unsigned (no sign, no spaces).
std::optional<std::uint64_t> parse_digits(std::string_view text) { return detail::parse_integer<std::uint64_t>(text); }

// NCPUS[:MB], NCPUS with an optional fraction. Stricter than numad (which stops at
// the first character it does not expect): trailing text is an error, not ignored.
Result<NumadAdviceRequest> parse_advice(std::string_view text) {
    constexpr std::uint64_t max_cpus = 1'000'000;
    constexpr std::uint64_t max_mib = std::uint64_t{1} << 40;  // 1 EiB: the bytes still fit 64 bits
    auto bad = [&](std::string_view why) {
        return usage_error(fmt::format("numad -w {}: {}; expected NCPUS[:MB] such as 2 or 2:512 (NCPUS may have "
                                       "a fraction: 1.5)",
                                       text, why));
    };
    NumadAdviceRequest request;
    std::string_view cpus = text;
    if (auto colon = text.find(':'); colon != std::string_view::npos) {
        cpus = text.substr(0, colon);
        auto mib = parse_digits(text.substr(colon + 1));
        if (!mib) return bad("MB is not a whole number");
        if (*mib > max_mib) return bad(fmt::format("MB is larger than {}", max_mib));
        request.memory_mib = *mib;
    }
    std::string_view whole = cpus;
    std::string_view fraction;
    if (auto dot = cpus.find('.'); dot != std::string_view::npos) {
        whole = cpus.substr(0, dot);
        fraction = cpus.substr(dot + 1);
        if (fraction.empty() || !parse_digits(fraction)) return bad("NCPUS is not a number");
    }
    auto units = parse_digits(whole);
    if (!units) return bad("NCPUS is not a number");
    if (*units > max_cpus) return bad(fmt::format("NCPUS is larger than {}", max_cpus));
    std::uint64_t hundredths = *units * 100;
    for (std::size_t i = 0; i < 2; ++i) hundredths += (i < fraction.size() ? fraction[i] - '0' : 0) * (i == 0 ? 10 : 1);
    // Digits past the hundredths round up: never advise fewer CPUs than asked for.
    if (fraction.size() > 2 && fraction.substr(2).find_first_not_of('0') != std::string_view::npos) ++hundredths;
    request.cpu_hundredths = hundredths;
    return request;
}

}  // namespace

Result<NumadInvocation> parse_numad_arguments(const std::vector<std::string>& args) {
    NumadInvocation invocation;
    bool advice = false;
    bool help = false;
    bool version = false;
    std::optional<std::string> refused;  // the first option this command does not answer

    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view word = args[i];
        if (word == "--help") {
            help = true;
            continue;
        }
        if (word == "--version") {
            version = true;
            continue;
        }
        if (word == "--") {
            if (i + 1 < args.size()) return usage_error(fmt::format("numad: unexpected argument '{}'", args[i + 1]));
            break;
        }
        if (word.size() < 2 || word[0] != '-' || word[1] == '-')
            return usage_error(fmt::format("numad: unexpected argument '{}' (numad takes options only; "
                                           "see `numad -h`)",
                                           word));
        for (std::size_t at = 1; at < word.size(); ++at) {
            char option = word[at];
            if (!is_numad_option(option))
                return usage_error(fmt::format("numad: unknown option -{} (see `numad -h`)", option));
            std::string value;
            if (takes_value(option)) {
                if (at + 1 < word.size()) {
                    value = std::string(word.substr(at + 1));
                } else if (i + 1 < args.size()) {
                    value = args[++i];
                } else {
                    return usage_error(fmt::format("numad: option -{} needs a value (see `numad -h`)", option));
                }
                at = word.size();  // the rest of the word was the value
            }
            switch (option) {
            case 'w': {
                auto parsed = parse_advice(value);
                if (!parsed) return std::unexpected(parsed.error());
                invocation.advice = *parsed;
                advice = true;
                break;
            }
            case 'R':
                if (value.empty()) return usage_error("numad -R: the list of reserved CPUs is empty");
                invocation.reserved_cpus = value;
                break;
            case 'h': help = true; break;
            case 'V': version = true; break;
            // numad's log level (and its obsolete -D): no effect on an answer.
            case 'd':
            case 'v':
            case 'l':
            case 'D': break;
            default:
                if (!refused) refused = refusal(option, value);
                break;
            }
        }
    }
    if (help) {
        invocation.action = NumadAction::help;
        return invocation;
    }
    if (version) {
        invocation.action = NumadAction::version;
        return invocation;
    }
    if (refused) return usage_error(*refused);
    if (!advice) return usage_error(daemon_refusal());
    invocation.action = NumadAction::advice;
    return invocation;
}

PlacementRequest numad_placement_request(const NumadAdviceRequest& request) {
    constexpr std::uint64_t page_bytes = 4096;
    PlacementRequest r;
    r.name = fmt::format("numad -w {}.{:02}:{}", request.cpu_hundredths / 100, request.cpu_hundredths % 100,
                         request.memory_mib);
    std::uint64_t vcpus = (request.cpu_hundredths + 99) / 100;
    r.vcpus = static_cast<int>(std::clamp<std::uint64_t>(vcpus, 1, std::numeric_limits<int>::max()));
    r.memory_bytes = request.memory_mib > 0 ? request.memory_mib << 20 : page_bytes;
    r.policy = request.cpu_hundredths == 0 ? PlacementPolicy::prio_mem_only : PlacementPolicy::best_effort;
    return r;
}

std::string numad_node_list(const Plan& plan, const Topology& topology) {
    NodeSet nodes = plan.fits() && !plan.nodes.empty() ? plan.nodes : topology.all_nodes();
    return to_list(nodes);
}

std::string numad_usage_text() {
    return fmt::format(
        "usage: numad -w NCPUS[:MB] [-R CPU_LIST]\n"
        "\n"
        "affine's numad compatibility: placement advice for NCPUS CPUs (a fraction is\n"
        "allowed) and MB mebibytes of memory, printed as a node list on one line\n"
        "(\"0\", \"0-1\", \"0,2\"), exit status 0 - what libvirt runs for placement='auto'.\n"
        "The answer comes from affine's planner: the running affine daemon's live view,\n"
        "or without one a fresh reading of this host (free memory and inactive file\n"
        "cache per node, CPU load per node measured over 100 ms, distances, the\n"
        "reserved_cpus of {}). -R leaves CPUs out.\n"
        "-d, -v and -l N are accepted with -w and change nothing.\n"
        "\n"
        "numad's daemon options (-i, -p, -x, -r, -S, -u, -m, -t, -H, -C, -K, or no\n"
        "option) are refused, each with the affine equivalent: the affine daemon\n"
        "(`affine daemon`) and the [[rule]] entries of {}.\n",
        config_file, config_file);
}

}  // namespace affine

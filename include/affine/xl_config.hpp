// xl domain configuration files (xl.cfg(5)), read as xl reads them, and what
// `affine xen create` adds to an `xl create` command line to carry out a plan.
// Pure: parses text and returns values; reading the file and running xl are the
// front end's steps.
//
// The syntax (libxlu's, Xen 4.17):
//   file     := (setting? (";" | newline))*
//   setting  := KEY "=" value | KEY "+=" value     a later setting of a key replaces
//                                                   an earlier one; += appends
//   KEY      := [A-Za-z_][A-Za-z0-9_.]*
//   value    := atom | "[" (atom ("," atom)* ","?)? "]"   lists may span lines
//   atom     := "string" | 'string' | number        numbers are kept as their text
//   comments run from "#" to the end of the line.
// Strings take the escapes \n \t \r \\ \" \' \xHH and \OOO (octal). Numbers are
// read as xl reads them (strtol with base 0: 0x1f hexadecimal, 017 octal).
// Overrides on xl's command line (`xl create CFG 'cpus="2-3"' memory=256`) are
// settings in the same syntax, applied after the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "affine/error.hpp"
#include "affine/id_set.hpp"
#include "affine/placement.hpp"
#include "affine/topology.hpp"

namespace affine {

// One value of a setting: an atom (a string, or a number as written) or a list of atoms.
struct XlValue {
    bool is_list = false;
    bool quoted = false;              // an atom written as a string (not a number)
    std::string atom;                 // when !is_list
    std::vector<std::string> items;   // when is_list
    int line = 0;                     // where it was set, for messages

    friend bool operator==(const XlValue&, const XlValue&) = default;
};

// The settings of a configuration, the last one of each key.
struct XlConfig {
    std::string source;  // the file name, for messages ("web.cfg")
    std::map<std::string, XlValue> settings;

    [[nodiscard]] const XlValue* find(std::string_view key) const;
};

// Parses configuration text. Usage error "SOURCE:LINE: ..." saying what was expected.
Result<XlConfig> parse_xl_config(std::string_view text, std::string_view source);

// Applies command-line overrides, each one setting in the configuration syntax
// (`memory=256`, `cpus="2-3"`, `cpus=["2","3"]`), in order. Usage error naming the
// override that does not parse.
Result<void> apply_xl_overrides(XlConfig& config, const std::vector<std::string>& overrides);

// A vCPU affinity setting (`cpus` or `cpus_soft`) as written: one CPU set text for
// every vCPU (a string or a number), or a list with one per vCPU (vCPU i gets item
// i; vCPUs past the list keep every CPU, as libxl does).
struct XlCpuSpec {
    bool per_vcpu = false;
    std::vector<std::string> sets;  // one text (!per_vcpu) or one per vCPU

    friend bool operator==(const XlCpuSpec&, const XlCpuSpec&) = default;
};

// What a domain's configuration asks for, as xl reads it.
struct XlDomain {
    std::string name;
    std::string type;                // "pv", "pvh", "hvm" ("" when not given: xl's default)
    std::uint64_t memory_mib = 0;    // `memory`, default 32 (libxl's default)
    std::uint64_t maxmem_mib = 0;    // `maxmem`, default `memory`
    int vcpus = 1;                   // `vcpus`, default 1
    int max_vcpus = 1;               // `maxvcpus`, default `vcpus`
    std::optional<XlCpuSpec> cpus;       // hard affinity
    std::optional<XlCpuSpec> cpus_soft;  // soft affinity
    std::string cpupool;             // "" when not given

    friend bool operator==(const XlDomain&, const XlDomain&) = default;
};

// Reads the settings affine plans with from a configuration. Usage error naming the
// key and line for a value of the wrong kind (a list for `memory`, a number that is
// not one, vcpus < 1, maxvcpus < vcpus, maxmem < memory, no `name`).
Result<XlDomain> xl_domain_from_config(const XlConfig& config);

// The CPU masks a spec gives each of `vcpus` vCPUs, each set in the CPU set grammar
// of `host` (xl's forms: "2-3", "all,^0", "node:1", "nodes:0-1"; a number is one
// CPU). Usage error naming `key` and the item that does not parse.
Result<std::vector<CpuSet>> resolve_xl_cpus(const XlCpuSpec& spec, int vcpus, const Topology& host,
                                            std::string_view key);

// The quoted form xl reads a string in: "2-3" -> "\"2-3\"".
std::string xl_quote(std::string_view text);

// What to add to `xl create` to carry out a plan for `domain` (KEY=VALUE overrides,
// applied after the user's):
//   best-effort        cpus_soft = the plan's CPUs; cpus = the plan's hard_cpus when
//                      it has them (reserved CPUs) and the user gave no per-vCPU list;
//   best-effort-hard   cpus = the plan's CPUs (unless the user gave a per-vCPU list,
//                      which is kept), and cpus_soft = the same CPUs: with only a hard
//                      mask libxl would place the domain itself (soft affinity and
//                      memory) and ignore the hard mask;
//   any                cpus_soft = "all" (libxl places nothing when cpus_soft is
//                      set), cpus = hard_cpus when CPUs are reserved.
// Usage error for prio-mem-only (xl has no setting for node affinity alone) and for a
// plan that did not place.
Result<std::vector<std::string>> xl_placement_overrides(const Plan& plan, const XlDomain& domain);

}  // namespace affine

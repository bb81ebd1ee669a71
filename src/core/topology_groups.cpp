// The CPU groups of a level (cores, packages, dies, L3 caches) in hwloc's logical
// order, which the set grammar's location terms index.
#include <algorithm>
#include <array>
#include <map>
#include <utility>

#include "affine/topology.hpp"

namespace affine {
namespace {

// The online CPUs of each group of one kind, keyed by what they share.
using Groups = std::map<std::pair<int, int>, CpuSet>;

struct Hierarchy {
    Groups packages, dies, nodes, l3s, cores;

    explicit Hierarchy(const Topology& t) {
        for (const Cpu& c : t.cpus) {
            if (!c.online) continue;
            if (c.package >= 0) packages[{c.package, 0}].insert(c.id);
            if (c.package >= 0 && c.die) dies[{c.package, *c.die}].insert(c.id);
            if (c.node >= 0) nodes[{c.node, 0}].insert(c.id);
            if (c.l3) l3s[{*c.l3, 0}].insert(c.id);
            if (c.core >= 0) cores[{c.core, 0}].insert(c.id);
        }
        // hwloc shows a die only where it is not its whole package (Linux gives every
        // CPU a die_id, 0 on most machines).
        std::erase_if(dies, [&](const auto& die) { return die.second == packages[{die.first.first, 0}]; });
    }

    [[nodiscard]] const Groups& of(Level level) const {
        switch (level) {
            case Level::core: return cores;
            case Level::package: return packages;
            case Level::die: return dies;
            case Level::l3: return l3s;
        }
        return cores;
    }

    // The groups of every kind that hold `cpu`, outermost kind first.
    [[nodiscard]] std::vector<const CpuSet*> around(const Cpu& c) const {
        std::vector<const CpuSet*> sets;
        auto add = [&](const Groups& g, std::pair<int, int> key) {
            if (auto it = g.find(key); it != g.end()) sets.push_back(&it->second);
        };
        add(packages, {c.package, 0});
        if (c.die) add(dies, {c.package, *c.die});
        add(nodes, {c.node, 0});
        if (c.l3) add(l3s, {*c.l3, 0});
        add(cores, {c.core, 0});
        return sets;
    }
};

}  // namespace

std::vector<CpuSet> Topology::groups(Level level) const {
    const Hierarchy h(*this);
    // hwloc numbers the objects of a level in the order of a depth-first walk of
    // its tree, whose children are sorted by their lowest CPU. A group's place in
    // that walk is the list of the lowest CPUs of the groups around it, from the
    // outermost in: compare those lists and the order is hwloc's.
    struct Keyed {
        std::vector<int> key;
        CpuSet cpus;
    };
    std::vector<Keyed> keyed;
    for (const auto& [id, members] : h.of(level)) {
        const int size = members.count();
        std::vector<std::pair<int, int>> around;  // (-size, lowest CPU): largest first
        for (const CpuSet* set : h.around(*cpu(*members.first())))
            if (set->count() >= size && members.is_subset_of(*set)) around.emplace_back(-set->count(), *set->first());
        std::ranges::stable_sort(around, {}, &std::pair<int, int>::first);
        Keyed k{{}, members};
        for (auto [neg_size, lowest] : around) k.key.push_back(lowest);
        k.key.push_back(*members.first());
        keyed.push_back(std::move(k));
    }
    std::ranges::sort(keyed, {}, &Keyed::key);
    std::vector<CpuSet> out;
    out.reserve(keyed.size());
    for (auto& k : keyed) out.push_back(std::move(k.cpus));
    return out;
}

std::vector<CpuPlace> cpu_places(const Topology& t) {
    std::vector<CpuPlace> places;
    places.reserve(t.cpus.size());
    std::map<int, std::size_t> row;
    for (const Cpu& c : t.cpus) {
        row[c.id] = places.size();
        places.push_back(CpuPlace{.cpu = c.id, .online = c.online, .node = c.node});
    }
    for (auto [level, field] : {std::pair{Level::package, &CpuPlace::socket}, {Level::die, &CpuPlace::die},
                                {Level::core, &CpuPlace::core}, {Level::l3, &CpuPlace::l3}}) {
        auto groups = t.groups(level);
        for (std::size_t index = 0; index < groups.size(); ++index)
            for (int cpu : groups[index]) places[row[cpu]].*field = static_cast<int>(index);
    }
    return places;
}

}  // namespace affine

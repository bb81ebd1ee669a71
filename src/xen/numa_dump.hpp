// The hypervisor's NUMA dump (debug key 'u'): where each domain's memory is, the
// only source Xen offers for it. Pure text parsing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "hypervisor.hpp"

namespace affine::xen {

// Parses the console text after debug key 'u': the last "Memory location of each
// domain:" block, pages converted to bytes. One pass.
DomainMemory parse_numa_dump(std::string_view console);

// A node's memory range in pages, as the NUMA dump prints it ("NODE0 start->0
// size->327680 free->203046": the first page frame and the spanned pages).
struct NodeSpan {
    std::uint64_t start_pfn = 0;
    std::uint64_t spanned_pages = 0;
    friend bool operator==(const NodeSpan&, const NodeSpan&) = default;
};

// What the console says about Xen's domain heap: the DMA width it printed at boot
// ("Domain heap initialised DMA width 29 bits": 29; the line without a width: 0;
// nullopt when the line is no longer in the ring), and each node's span from the
// last NUMA dump.
struct HeapLayout {
    std::optional<unsigned> dma_bits;
    std::map<int, NodeSpan> nodes;
};
HeapLayout parse_heap_layout(std::string_view console);

// Xen's DMA width on x86 when neither its boot message nor dma_bits= says
// (arch_get_dma_bitsize, taken when more than one node is online): the first node
// by id with memory below 4 GiB keeps its lowest quarter, rounded up to a power of
// two, at most 4 GiB: min(fls(start + spanned / 4 - 1) + 12, 32). 0 when no
// node starts below 4 GiB (Xen refuses to boot then).
unsigned x86_dma_bits(const std::map<int, NodeSpan>& nodes);

// The value of dma_bits= on Xen's command line, if it is there.
std::optional<unsigned> dma_bits_option(std::string_view command_line);

}  // namespace affine::xen

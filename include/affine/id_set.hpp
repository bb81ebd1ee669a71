// CpuSet and NodeSet: dynamically sized sets of small non-negative ids.
#pragma once

#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <span>
#include <vector>

namespace affine {

// The largest CPU or node id affine accepts from any input: the set grammar, host
// files, hwloc, sysfs, Xen and the simulated host's state are all held to it. Linux
// allows at most 8,192 CPUs (NR_CPUS) and 1,024 nodes today; this leaves room for
// growth while a set of every id stays small (128 KiB), so a typo such as 10^9 is
// refused instead of sizing bitmaps and per-node tables by it.
inline constexpr int max_id = (1 << 20) - 1;
constexpr bool valid_id(long long id) { return id >= 0 && id <= max_id; }

// A set of ids (CPU numbers or node numbers) as a bitmap that grows as needed, so
// hosts with 8,192 or more CPUs need no compile-time limit. `Tag` keeps CPU sets
// and node sets apart in the type system. Equality ignores trailing zero words.
template <typename Tag>
class IdSet {
public:
    using Word = std::uint64_t;
    static constexpr int word_bits = 64;

    IdSet() = default;
    IdSet(std::initializer_list<int> ids) {
        for (int id : ids) insert(id);
    }

    // The set {first, first + stride, ...} up to and including `last`.
    static IdSet range(int first, int last, int stride = 1) {
        IdSet s;
        for (int id = first; id <= last; id += stride) s.insert(id);
        return s;
    }

    // The set whose bit i (of word i / 64) is set; bit 0 of words[0] is id 0.
    static IdSet from_words(std::span<const Word> words) {
        IdSet s;
        s.words_.assign(words.begin(), words.end());
        s.trim();
        return s;
    }

    void insert(int id) {
        auto w = static_cast<std::size_t>(id / word_bits);
        if (w >= words_.size()) words_.resize(w + 1, 0);
        words_[w] |= Word{1} << (id % word_bits);
    }
    void erase(int id) {
        auto w = static_cast<std::size_t>(id / word_bits);
        if (w < words_.size()) words_[w] &= ~(Word{1} << (id % word_bits));
        trim();
    }
    [[nodiscard]] bool contains(int id) const {
        if (id < 0) return false;
        auto w = static_cast<std::size_t>(id / word_bits);
        return w < words_.size() && ((words_[w] >> (id % word_bits)) & 1U) != 0;
    }
    [[nodiscard]] bool empty() const { return words_.empty(); }
    [[nodiscard]] int count() const {
        int n = 0;
        for (Word w : words_) n += std::popcount(w);
        return n;
    }
    // The smallest and largest member; nullopt when empty.
    [[nodiscard]] std::optional<int> first() const {
        for (std::size_t i = 0; i < words_.size(); ++i)
            if (words_[i] != 0) return static_cast<int>(i) * word_bits + std::countr_zero(words_[i]);
        return std::nullopt;
    }
    [[nodiscard]] std::optional<int> last() const {
        if (words_.empty()) return std::nullopt;
        auto i = words_.size() - 1;
        return static_cast<int>(i) * word_bits + word_bits - 1 - std::countl_zero(words_[i]);
    }
    // The words of the bitmap, lowest ids first, without trailing zero words.
    [[nodiscard]] std::span<const Word> words() const { return words_; }

    [[nodiscard]] bool is_subset_of(const IdSet& other) const { return (*this - other).empty(); }
    [[nodiscard]] bool intersects(const IdSet& other) const { return !(*this & other).empty(); }

    IdSet& operator|=(const IdSet& o) {
        if (o.words_.size() > words_.size()) words_.resize(o.words_.size(), 0);
        for (std::size_t i = 0; i < o.words_.size(); ++i) words_[i] |= o.words_[i];
        return *this;
    }
    IdSet& operator&=(const IdSet& o) {
        if (words_.size() > o.words_.size()) words_.resize(o.words_.size());
        for (std::size_t i = 0; i < words_.size(); ++i) words_[i] &= o.words_[i];
        trim();
        return *this;
    }
    IdSet& operator-=(const IdSet& o) {
        auto n = std::min(words_.size(), o.words_.size());
        for (std::size_t i = 0; i < n; ++i) words_[i] &= ~o.words_[i];
        trim();
        return *this;
    }
    friend IdSet operator|(IdSet a, const IdSet& b) { return a |= b; }
    friend IdSet operator&(IdSet a, const IdSet& b) { return a &= b; }
    friend IdSet operator-(IdSet a, const IdSet& b) { return a -= b; }
    friend bool operator==(const IdSet&, const IdSet&) = default;

    // Iterates the members in increasing order.
    class iterator {
    public:
        using value_type = int;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        iterator() = default;
        iterator(const IdSet* set, int id) : set_(set), id_(id) {}
        int operator*() const { return id_; }
        iterator& operator++() {
            id_ = set_->next_from(id_ + 1);
            return *this;
        }
        iterator operator++(int) {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.id_ == b.id_; }

    private:
        const IdSet* set_ = nullptr;
        int id_ = -1;
    };
    [[nodiscard]] iterator begin() const { return {this, next_from(0)}; }
    [[nodiscard]] iterator end() const { return {this, -1}; }

    // The members as a vector of ids, in increasing order.
    [[nodiscard]] std::vector<int> ids() const { return {begin(), end()}; }

private:
    // The smallest member >= from, or -1.
    [[nodiscard]] int next_from(int from) const {
        auto w = static_cast<std::size_t>(from / word_bits);
        if (w >= words_.size()) return -1;
        Word cur = words_[w] & (~Word{0} << (from % word_bits));
        while (true) {
            if (cur != 0) return static_cast<int>(w) * word_bits + std::countr_zero(cur);
            if (++w >= words_.size()) return -1;
            cur = words_[w];
        }
    }
    void trim() {
        while (!words_.empty() && words_.back() == 0) words_.pop_back();
    }

    std::vector<Word> words_;
};

struct CpuTag {};
struct NodeTag {};
using CpuSet = IdSet<CpuTag>;
using NodeSet = IdSet<NodeTag>;

}  // namespace affine

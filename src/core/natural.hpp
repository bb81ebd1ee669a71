// Natural: an unsigned integer of any size, with the few operations exact sums of
// fractions need (xen_placement.cpp puts every vCPU's share over one common
// denominator, the lcm of the mask sizes, which can pass 128 bits).
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <vector>

namespace affine::detail {

class Natural {
public:
    Natural() = default;
    explicit Natural(std::uint64_t v) {
        for (; v != 0; v >>= 32) limbs_.push_back(static_cast<std::uint32_t>(v));
    }

    [[nodiscard]] bool is_zero() const { return limbs_.empty(); }

    Natural& operator+=(const Natural& o) {
        limbs_.resize(std::max(limbs_.size(), o.limbs_.size()), 0);
        std::uint64_t carry = 0;
        for (std::size_t i = 0; i < limbs_.size(); ++i) {
            carry += std::uint64_t{limbs_[i]} + (i < o.limbs_.size() ? o.limbs_[i] : 0);
            limbs_[i] = static_cast<std::uint32_t>(carry);
            carry >>= 32;
        }
        if (carry != 0) limbs_.push_back(static_cast<std::uint32_t>(carry));
        return *this;
    }
    // Requires *this >= o.
    Natural& operator-=(const Natural& o) {
        std::int64_t borrow = 0;
        for (std::size_t i = 0; i < limbs_.size(); ++i) {
            std::int64_t d = std::int64_t{limbs_[i]} - (i < o.limbs_.size() ? o.limbs_[i] : 0) - borrow;
            borrow = d < 0 ? 1 : 0;
            limbs_[i] = static_cast<std::uint32_t>(d + (borrow << 32));
        }
        trim();
        return *this;
    }
    [[nodiscard]] Natural times(std::uint64_t m) const {
        __extension__ typedef unsigned __int128 Wide;
        Natural out;
        Wide carry = 0;
        for (std::uint32_t limb : limbs_) {
            carry += static_cast<Wide>(limb) * m;
            out.limbs_.push_back(static_cast<std::uint32_t>(carry));
            carry >>= 32;
        }
        for (; carry != 0; carry >>= 32) out.limbs_.push_back(static_cast<std::uint32_t>(carry));
        out.trim();
        return out;
    }
    // Quotient by d > 0 (remainder in `rest`).
    [[nodiscard]] Natural divided_by(std::uint32_t d, std::uint32_t& rest) const {
        Natural out;
        out.limbs_.resize(limbs_.size());
        std::uint64_t r = 0;
        for (std::size_t i = limbs_.size(); i-- > 0;) {
            std::uint64_t cur = (r << 32) | limbs_[i];
            out.limbs_[i] = static_cast<std::uint32_t>(cur / d);
            r = cur % d;
        }
        out.trim();
        rest = static_cast<std::uint32_t>(r);
        return out;
    }

    friend std::strong_ordering operator<=>(const Natural& a, const Natural& b) {
        if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() <=> b.limbs_.size();
        for (std::size_t i = a.limbs_.size(); i-- > 0;)
            if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] <=> b.limbs_[i];
        return std::strong_ordering::equal;
    }
    friend bool operator==(const Natural& a, const Natural& b) = default;

private:
    void trim() {
        while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
    }
    std::vector<std::uint32_t> limbs_;  // least significant first
};

}  // namespace affine::detail

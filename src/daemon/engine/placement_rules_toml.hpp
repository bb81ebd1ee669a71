// The placement rules of the daemon's configuration file (TOML): the [[rule]] tables
// and the global exclude_comm / exclude_cgroup / exclude_uid keys. The daemon's
// configuration reader hands the parsed file here; the keys are documented in
// docs/numad.md and placement_rules.hpp.
#pragma once

#include "core/toml.hpp"

#include <string_view>

#include "affine/error.hpp"
#include "placement_rules.hpp"

namespace affine::detail {

// Keys of the top-level table this reader owns (the configuration reader must not
// call them unknown).
inline constexpr std::string_view placement_rule_keys[] = {"rule", "exclude_comm", "exclude_cgroup", "exclude_uid"};

// Reads the rules of `root`. Usage error "SOURCE:N: ..." naming the key and what
// is allowed: an unknown key in a rule, a value of the wrong type, a bad size or
// policy, a rule without a name or with a name used twice. Pure.
Result<PlacementRules> placement_rules_from_toml(const toml::table& root, std::string_view source);

// The same from the text of a configuration file (parse errors with their line).
Result<PlacementRules> placement_rules_from_toml_text(std::string_view text, std::string_view source);

}  // namespace affine::detail

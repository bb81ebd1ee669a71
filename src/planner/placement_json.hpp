// JSON of plans and placement host states (internal: nlohmann::json values for
// front ends that combine them, as `affine place --requests` does).
#pragma once

#include "affine/placement.hpp"
#include "core/json.hpp"

namespace affine::detail {

Json plan_json(const Plan& plan);
Json placement_host_json(const PlacementHost& host);

}  // namespace affine::detail

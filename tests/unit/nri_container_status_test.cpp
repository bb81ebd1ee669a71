// What `affine nri` records for `affine daemon status`: the placer's containers, and
// the file's JSON read back.
#include <gtest/gtest.h>

#include "affine/host.hpp"
#include "nri/container_status.hpp"

namespace affine::nri {
namespace {

ContainerSpec spec(const std::string& id, std::uint64_t shares, std::int64_t quota) {
    ContainerSpec s;
    s.id = id;
    s.name = id;
    s.pod = "default/" + id;
    s.cpu_shares = shares;
    s.cpu_quota = quota;
    s.cpu_period = 100000;
    s.memory_limit = 1 << 30;
    return s;
}

TEST(NriContainerStatus, EveryContainerWithWhereAndWhy) {
    ContainerPlacer placer(make_placement_host(*synthetic_topology("nodes=1,cores=4,mem=8G")));
    ASSERT_TRUE(placer.create(spec("db", 2048, 200000)).has_value());
    ASSERT_TRUE(placer.create(spec("web", 1024, 0)).has_value());
    PluginStatus status = plugin_status(placer, 4242, 99);
    ASSERT_EQ(status.containers.size(), 2u);
    const ContainerStatus& db = status.containers[0];
    EXPECT_EQ(db.id, "db");
    EXPECT_EQ(db.pod, "default/db");
    EXPECT_EQ(db.mode, "exclusive");
    EXPECT_EQ(db.cpus.count(), 2);
    EXPECT_EQ(db.mems, db.nodes);
    EXPECT_NE(db.why.find("exclusive"), std::string::npos);
    const ContainerStatus& web = status.containers[1];
    EXPECT_EQ(web.mode, "aligned");
    EXPECT_FALSE(web.cpus.intersects(db.cpus));
    EXPECT_FALSE(web.why.empty());

    // Removing the exclusive one gives its CPUs back to the shared one, which says why.
    placer.remove("db");
    status = plugin_status(placer, 4242, 99);
    ASSERT_EQ(status.containers.size(), 1u);
    EXPECT_NE(status.containers[0].why.find("freed by default/db"), std::string::npos) << status.containers[0].why;
}

TEST(NriContainerStatus, JsonReadsBackAndRefusesWhatIsNot) {
    PluginStatus status;
    status.plugin_pid = 7;
    status.containers.push_back({"abc", "default/p", "c\nforged", "aligned", NodeSet{1}, CpuSet{2, 3}, NodeSet{1},
                                 "1 CPUs shared"});
    auto json = to_json(status);
    auto back = plugin_status_from_json(json, "nri.json");
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_EQ(back->plugin_pid, 7);
    EXPECT_EQ(back->plugin_start_time, 0U);
    status.plugin_start_time = 123456789;
    EXPECT_EQ(plugin_status_from_json(to_json(status), "nri.json")->plugin_start_time, 123456789U);
    ASSERT_EQ(back->containers.size(), 1u);
    EXPECT_EQ(back->containers[0].cpus, (CpuSet{2, 3}));
    EXPECT_EQ(back->containers[0].mems, NodeSet{1});
    EXPECT_EQ(back->containers[0].name.find('\n'), std::string::npos);  // made safe
    json["containers"][0]["cpus"] = "2-3";
    auto bad = plugin_status_from_json(json, "nri.json");
    ASSERT_FALSE(bad.has_value());
    EXPECT_NE(bad.error().message.find("nri.json: $.containers[0].cpus"), std::string::npos) << bad.error().message;
    EXPECT_FALSE(plugin_status_from_json(detail::Json::array(), "nri.json").has_value());
}

}  // namespace
}  // namespace affine::nri

// system::registry() (troupe/actors/registry.hpp).
#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

#include "supervision_util.hpp"
#include "test_util.hpp"

using troupe::test::settle;
using troupe::test::Target;
using troupe::test::Watcher;

TEST_CASE("a registered actor is found by name, typed", "[registry]") {
  troupe::test_system sys(1);
  auto t = sys.spawn<Target>();
  REQUIRE(sys.registry().add("target", t));
  REQUIRE_FALSE(sys.registry().add("target", sys.spawn<Target>()));  // taken
  REQUIRE(sys.registry().add("alias", t));                           // a second name
  auto found = sys.registry().find<Target>("target");
  REQUIRE(found == t);
  REQUIRE(sys.registry().find_addr("alias") == t);
  REQUIRE_FALSE(sys.registry().find<Target>("nobody"));
  REQUIRE(sys.registry().names() == std::vector<std::string>{"alias", "target"});
  REQUIRE(sys.registry().remove("alias"));
  REQUIRE_FALSE(sys.registry().remove("alias"));
  REQUIRE(sys.registry().size() == 1);
}

TEST_CASE("a lookup with the wrong type fails naming both types", "[registry]") {
  troupe::test_system sys(2);
  REQUIRE(sys.registry().add("w", sys.spawn<Watcher>()));
  try {
    (void)sys.registry().find<Target>("w");
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::invalid_argument);
    const std::string what = e.what();
    REQUIRE(what.find("troupe::test::Watcher") != std::string::npos);
    REQUIRE(what.find("troupe::test::Target") != std::string::npos);
    REQUIRE(what.find("\"w\"") != std::string::npos);
  }
  // The untyped address converts back only to the right type.
  auto a = sys.registry().find_addr("w");
  REQUIRE(a.is<Watcher>());
  REQUIRE_THROWS_AS(a.as<Target>(), troupe::error);
  REQUIRE(a.as<Watcher>() == a);
}

TEST_CASE("registry entries vanish when the actor dies", "[registry]") {
  troupe::test_system sys(3);
  auto t = sys.spawn<Target>();
  REQUIRE(sys.registry().add("t", t));
  t.send(troupe::test::Boom{});
  sys.run_until_idle();
  REQUIRE_FALSE(sys.registry().find<Target>("t"));
  REQUIRE(sys.registry().size() == 0);
  REQUIRE_FALSE(sys.registry().add("t", t));              // a dead actor is not registered
  REQUIRE(sys.registry().add("t", sys.spawn<Target>()));  // the name is free again
}

TEST_CASE("a supervised actor keeps its names across restarts", "[registry]") {
  troupe::test_system sys(4);
  auto sup = sys.spawn<troupe::supervisor>();
  auto t = troupe::start_child<Target>(sup, {});
  REQUIRE(sys.registry().add("svc", t));
  t.send(troupe::test::Boom{});
  sys.run_until_idle();
  REQUIRE_FALSE(t.terminated());
  REQUIRE(sys.registry().find<Target>("svc") == t);
  sup.stop();
  sys.run_until_idle();
  REQUIRE_FALSE(sys.registry().find<Target>("svc"));
}

TEST_CASE("registering while the actor terminates never leaves a stale name",
          "[registry][stress]") {
  troupe::system sys(troupe::system_config{3});
  for (int round = 0; round < 300; ++round) {
    auto t = sys.spawn<Target>();
    const std::string name = "r" + std::to_string(round);
    std::thread killer([t] { t.kill(); });
    const bool added = sys.registry().add(name, t);
    killer.join();
    REQUIRE(troupe::test::eventually([&] { return t.terminated(); }));
    // Termination removes the name after closing the mailbox: once
    // terminated() is true the name is gone or going; it never stays.
    REQUIRE(troupe::test::eventually([&] { return !sys.registry().find<Target>(name); }));
    (void)added;
  }
  REQUIRE(sys.registry().size() == 0);
}

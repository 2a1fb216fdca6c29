#include <catch2/catch.hpp>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <troupe/actors/future.hpp>

using namespace std::chrono_literals;

TEST_CASE("a future delivers the value set by its promise", "[future]") {
  troupe::promise<int> p;
  auto f = p.get_future();
  REQUIRE(f.valid());
  REQUIRE_FALSE(f.ready());
  std::thread t([&p] { p.set_value(42); });
  REQUIRE(f.get() == 42);
  REQUIRE_FALSE(f.valid());
  t.join();
}

TEST_CASE("get on a consumed future fails with future_retrieved", "[future]") {
  auto f = troupe::make_ready_future(1);
  REQUIRE(f.get() == 1);
  try {
    f.get();
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::future_retrieved);
  }
}

TEST_CASE("get with a timeout throws timeout and leaves the future usable", "[future]") {
  troupe::promise<std::string> p;
  auto f = p.get_future();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    f.get(20ms);
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::timeout);
    REQUIRE(std::string(e.what()).find("future::get") != std::string::npos);
  }
  REQUIRE(std::chrono::steady_clock::now() - t0 >= 20ms);
  REQUIRE(f.valid());
  p.set_value("late");
  REQUIRE(f.get(1s) == "late");
}

TEST_CASE("a destroyed promise breaks its future instead of hanging it", "[future]") {
  troupe::future<int> f;
  {
    troupe::promise<int> p;
    f = p.get_future();
  }
  REQUIRE(f.ready());
  try {
    f.get();
    FAIL("no exception");
  } catch (const troupe::error& e) {
    REQUIRE(e.value() == troupe::errc::broken_promise);
  }
}

TEST_CASE("then chains continuations and propagates errors", "[future]") {
  SECTION("value") {
    troupe::promise<int> p;
    auto f = p.get_future()
                 .then([](troupe::future<int> r) { return r.get() * 2; })
                 .then([](troupe::future<int> r) { return std::to_string(r.get()); });
    p.set_value(21);
    REQUIRE(f.get() == "42");
  }
  SECTION("already ready runs at once") {
    bool ran = false;
    auto f = troupe::make_ready_future(1).then([&](troupe::future<int> r) {
      ran = true;
      return r.get();
    });
    REQUIRE(ran);
    REQUIRE(f.get() == 1);
  }
  SECTION("an exception in the source reaches the end of the chain") {
    troupe::promise<int> p;
    auto f = p.get_future().then([](troupe::future<int> r) { return r.get() + 1; });
    p.set_exception(std::make_exception_ptr(std::runtime_error("source failed")));
    REQUIRE_THROWS_WITH(f.get(), "source failed");
  }
  SECTION("an exception in the continuation fails the result") {
    auto f = troupe::make_ready_future(1).then(
        [](troupe::future<int>) -> int { throw std::logic_error("continuation failed"); });
    REQUIRE_THROWS_WITH(f.get(), "continuation failed");
  }
  SECTION("void futures") {
    troupe::promise<void> p;
    int seen = 0;
    auto f = p.get_future().then([&](troupe::future<void> r) {
      r.get();
      seen = 7;
    });
    p.set_value();
    f.get();
    REQUIRE(seen == 7);
  }
}

TEST_CASE("a second completion of a promise is ignored", "[future]") {
  troupe::promise<int> p;
  auto f = p.get_future();
  p.set_value(1);
  p.set_value(2);
  p.set_error(troupe::errc::timeout, "ignored");
  REQUIRE(f.get() == 1);
}

TEST_CASE("many threads waiting on one future all wake", "[future][stress]") {
  for (int round = 0; round < 200; ++round) {
    troupe::promise<int> p;
    auto f = p.get_future();
    auto shared = std::make_shared<troupe::future<int>>(std::move(f));
    std::atomic<int> woke{0};
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
      ts.emplace_back([&] {
        shared->wait();
        woke.fetch_add(1);
      });
    }
    p.set_value(round);
    for (auto& t : ts) t.join();
    REQUIRE(woke.load() == 4);
    REQUIRE(shared->get() == round);
  }
}

TEST_CASE("a future given an error code that is no enumerator still fails", "[future]") {
  troupe::promise<int> p;
  auto f = p.get_future();
  p.set_error(static_cast<troupe::errc>(0), "zero");
  try {
    (void)f.get();
    FAIL("an error was taken for a value");
  } catch (const troupe::error& e) {
    CHECK(e.value() == troupe::errc::invalid_argument);
    CHECK(std::string(e.what()).find("error code 0 (not a troupe::errc): zero") !=
          std::string::npos);
  }
}

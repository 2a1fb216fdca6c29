// Refs inside messages that cross to an isolated actor and back: sends,
// asks and stops through them, both directions, round trips, dead targets,
// forged ids (link_refs directly), and the end of the connection.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "internal/link_refs.hpp"
#include "process_fixtures.hpp"
#include "troupe/wire/message.hpp"

namespace nd = troupe::nodes::detail;
using namespace std::chrono_literals;

namespace {

/// Waits until `pred()` holds (bounded generously); its last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds d = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a ref sent to an isolated actor works there: sends and asks reach the parent",
          "[nodes][process][refs]") {
  troupe::system sys;
  auto col = sys.spawn<pt::Collector>();
  auto relay = sys.spawn<pt::Relay>(troupe::isolated);
  const int child = pt::pid_of(relay);
  for (int i = 0; i < 3; ++i) relay.send(pt::Tell{col, "n" + std::to_string(i)});
  REQUIRE(eventually([&] { return col.ask(pt::Notes{}).get(30s).size() == 3; }));
  const auto notes = col.ask(pt::Notes{}).get(30s);
  CHECK(notes[0] == "n0 from " + std::to_string(child));
  CHECK(notes[2] == "n2 from " + std::to_string(child));
  // An ask from the child through the ref: Collector's reply goes back.
  CHECK(relay.ask(pt::AskVia{col, "hey"}).get(30s) == "hey!");
  // The empty ref crosses as an empty ref.
  CHECK_THAT(relay.ask(pt::AskVia{{}, "x"}).get(30s), Catch::StartsWith("error "));
}

TEST_CASE("a ref to an actor of the child's comes back to the parent and works",
          "[nodes][process][refs]") {
  troupe::system sys;
  auto relay = sys.spawn<pt::Relay>(troupe::isolated);
  const int child = pt::pid_of(relay);
  troupe::ref<pt::Helper> h = relay.ask(pt::MakeHelper{}).get(30s);
  REQUIRE(h);
  CHECK(h.location().where == troupe::location::kind::process);
  CHECK(h.location().pid == child);
  CHECK(h.ask(pt::Echo{"hi"}).get(30s) == "helper hi from " + std::to_string(child));
  h.send(pt::Inc{2});
  h.send(pt::Inc{3});
  CHECK(h.ask(pt::Get{}).get(30s) == 5);
  // The same actor again is the same ref; sent back, it is the child's own.
  CHECK(relay.ask(pt::MakeHelper{}).get(30s) == h);
  CHECK(relay.ask(pt::IsHelper{h}).get(30s));
  // The isolated actor's own ref, sent to it, is itself there.
  CHECK(relay.ask(pt::IsMe{relay}).get(30s));
  // The child's end ends the refs of its actors, with its reason.
  relay.kill();
  CHECK(pt::wait_gone(relay, 30s));
  CHECK(pt::wait_gone(h, 30s));
  CHECK(h.send(pt::Inc{1}) == troupe::send_result::closed);
  CHECK_THROWS_AS(h.ask(pt::Get{}).get(30s), troupe::error);
}

TEST_CASE("a dead target through a ref gives a dead letter, or actor_dead to an ask",
          "[nodes][process][refs]") {
  troupe::system sys;
  auto col = sys.spawn<pt::Collector>();
  auto relay = sys.spawn<pt::Relay>(troupe::isolated);
  CHECK(relay.ask(pt::AskVia{col, "a"}).get(30s) == "a!");
  col.stop();
  REQUIRE(pt::wait_gone(col, 30s));
  const std::uint64_t dead = sys.stats().dead_letters;
  relay.send(pt::Tell{col, "late"});
  CHECK(eventually([&] { return sys.stats().dead_letters > dead; }));
  const std::string r = relay.ask(pt::AskVia{col, "b"}).get(30s);
  INFO(r);
  CHECK_THAT(
      r, Catch::StartsWith("error " + std::to_string(static_cast<int>(troupe::errc::actor_dead))));
  // The child is unharmed.
  CHECK(relay.ask(pt::IsMe{relay}).get(30s));
}

TEST_CASE("stop and kill through an imported ref reach the actor", "[nodes][process][refs]") {
  troupe::system sys;
  auto relay = sys.spawn<pt::Relay>(troupe::isolated);
  troupe::ref<pt::Helper> h = relay.ask(pt::MakeHelper{}).get(30s);
  CHECK(h.ask(pt::Get{}).get(30s) == 0);
  h.stop();
  // The helper stops in the child; a new one is made for the next ask.
  REQUIRE(eventually([&] {
    auto again = relay.ask(pt::MakeHelper{}).get(30s);
    try {
      (void)again.ask(pt::Get{}).get(30s);
      return false;
    } catch (const troupe::error& e) {
      return e.value() == troupe::errc::actor_dead;
    }
  }));
  CHECK(relay.ask(pt::IsMe{relay}).get(30s));
}

TEST_CASE("a ref outside a connection is refused, naming why", "[nodes][refs]") {
  troupe::system sys;
  auto col = sys.spawn<pt::Collector>();
  try {
    (void)troupe::wire::encode(pt::Tell{col, "x"});
    FAIL("encoded");
  } catch (const troupe::wire::wire_error& e) {
    CHECK(e.kind() == troupe::wire::wire_errc::invalid_value);
    CHECK_THAT(e.what(), Catch::Contains("a ref crosses only inside a message"));
  }
  // An empty ref is fine anywhere.
  const auto bytes = troupe::wire::encode(pt::Tell{{}, "x"});
  pt::Tell back;
  CHECK(troupe::wire::decode(bytes, back).ok());
  CHECK_FALSE(back.to);
}

TEST_CASE("a forged or stale ref id reaches nothing", "[nodes][refs]") {
  troupe::system sys;
  auto col = sys.spawn<pt::Collector>();
  auto refs = std::make_shared<nd::link_refs>(
      sys, troupe::location{troupe::location::kind::process, 1, {}}, "test link");
  std::string why;
  // "Yours" with an id this side never gave: nothing.
  CHECK(refs->import_ref({nd::ref_tag::yours, 99}, typeid(pt::Collector), "pt::Collector", why) ==
        nullptr);
  CHECK_THAT(why, Catch::Contains("forged or stale"));
  // A real export, named with another type: nothing.
  const nd::ref_wire w = refs->export_ref(col.cell_ptr());
  CHECK(w.tag == nd::ref_tag::mine);
  CHECK(refs->import_ref({nd::ref_tag::yours, w.id}, typeid(pt::Helper), "pt::Helper", why) ==
        nullptr);
  CHECK_THAT(why, Catch::Contains("not a pt::Helper"));
  // The same, with its type: the actor itself.
  troupe::detail::cell* c =
      refs->import_ref({nd::ref_tag::yours, w.id}, typeid(pt::Collector), "pt::Collector", why);
  CHECK(c == col.cell_ptr());
  if (c != nullptr) c->release();
  CHECK(refs->exports() == 1);

  // A message to an id never exported is dropped, not delivered.
  std::vector<std::byte> frame;
  troupe::wire::writer wr(frame);
  wr.fixed(std::uint64_t{12345});
  troupe::wire::write_message(wr, pt::Note{"forged"});
  refs->on_frame(nd::frame_kind::ref_send, frame);
  // To the real id it is delivered.
  frame.clear();
  troupe::wire::writer wr2(frame);
  wr2.fixed(w.id);
  troupe::wire::write_message(wr2, pt::Note{"real"});
  refs->on_frame(nd::frame_kind::ref_send, frame);
  const auto notes = col.ask(pt::Notes{}).get(30s);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] == "real");
  // A frame that is not even well formed is the caller's to close on.
  CHECK_THROWS_AS(refs->on_frame(nd::frame_kind::ref_send, std::span<const std::byte>{}),
                  std::runtime_error);

  // An imported ref ends when the connection does, with its reason.
  troupe::detail::cell* imp =
      refs->import_ref({nd::ref_tag::mine, 7}, typeid(pt::Helper), "pt::Helper", why);
  REQUIRE(imp != nullptr);
  troupe::ref<pt::Helper> h(troupe::ref<pt::Helper>::adopt_t{}, imp);
  CHECK(refs->imports() == 1);
  refs->close(troupe::exit_reason{troupe::exit_reason::kind::peer_lost, "test link closed"});
  CHECK(pt::wait_gone(h, 30s));
  CHECK(refs->exports() == 0);
  CHECK(refs->import_ref({nd::ref_tag::mine, 8}, typeid(pt::Helper), "pt::Helper", why) == nullptr);
}

// The message registry, TROUPE_MESSAGE, any_message, and message encoding.

#include <atomic>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <thread>
#include <troupe/wire/message.hpp>
#include <vector>

#include "fuzz/fuzz_types.hpp"
#include "wire_test_util.hpp"

namespace wire = troupe::wire;
using wire::wire_errc;

namespace msgtest {

struct order {
  std::string customer;
  std::uint32_t qty = 0;
  TROUPE_FIELDS(customer, qty);
  friend bool operator==(const order&, const order&) = default;
};
TROUPE_MESSAGE(order, "test.shop.order.v1");

struct cancel {
  std::uint64_t id = 0;
  TROUPE_FIELDS(id);
};
TROUPE_MESSAGE(cancel, "test.shop.cancel.v1");

// One declaration: the name and the fields, beside the type.
struct refund {
  std::string customer;
  std::vector<std::uint32_t> lines;
  std::optional<std::int64_t> cents;
  friend bool operator==(const refund&, const refund&) = default;
};
TROUPE_MESSAGE(refund, "test.shop.refund.v1", customer, lines, cents);

// A signal: an empty class needs no fields.
struct ping {};
TROUPE_MESSAGE(ping, "test.ping.v1");

struct runtime_only {
  std::vector<std::string> items;
  TROUPE_FIELDS(items);
};

struct never_registered {
  int x = 0;
  TROUPE_FIELDS(x);
};

}  // namespace msgtest

namespace {

wire::wire_errc kind_of_throw(auto&& fn) {
  try {
    fn();
  } catch (const wire::wire_error& e) {
    return e.kind();
  }
  return wire::wire_errc{};
}

}  // namespace

TEST_CASE("message ids are FNV-1a 64 of the name", "[wire][message]") {
  STATIC_REQUIRE(wire::message_id_of("") == 0xcbf29ce484222325ULL);
  STATIC_REQUIRE(wire::message_id_of("a") == 0xaf63dc4c8601ec8cULL);
  STATIC_REQUIRE(wire::message_id_of("foobar") == 0x85944171f73967e8ULL);
  STATIC_REQUIRE(wire::message_id_v<msgtest::order> == wire::message_id_of("test.shop.order.v1"));
  STATIC_REQUIRE(wire::message_name_v<msgtest::cancel> == "test.shop.cancel.v1");
  STATIC_REQUIRE(wire::named_message<msgtest::order>);
  STATIC_REQUIRE_FALSE(wire::named_message<msgtest::runtime_only>);
}

TEST_CASE("TROUPE_MESSAGE registers the type at start-up", "[wire][message]") {
  const wire::message_info* info =
      wire::registry::global().find(wire::message_id_v<msgtest::order>);
  REQUIRE(info != nullptr);
  CHECK(info->name == "test.shop.order.v1");
  CHECK(info->type == std::type_index(typeid(msgtest::order)));
  CHECK(info->type_name == "msgtest::order");
  CHECK(wire::registry::global().find<msgtest::order>() == info);
  CHECK(msgtest::troupe_wire_registered_order == info->id);
}

TEST_CASE("TROUPE_MESSAGE with a field list is the whole declaration", "[wire][message]") {
  STATIC_REQUIRE(wire::named_message<msgtest::refund>);
  STATIC_REQUIRE(wire::has_codec<msgtest::refund>);
  STATIC_REQUIRE(wire::codec<msgtest::refund>::min_size == 1 + 1 + 1);
  CHECK(wire::registry::global().find<msgtest::refund>() != nullptr);

  const msgtest::refund r{"bob", {1, 2, 3}, -250};
  const auto bytes = wire::encode_message(r);
  wire::any_message m;
  REQUIRE(wire::decode_message(bytes, m).ok());
  CHECK(m.get<msgtest::refund>() == r);

  // Bounded like any field list; a failure names the field.
  auto body = wire::encode(r);
  body.resize(body.size() - 3);
  msgtest::refund out;
  const wire::status s = wire::decode(body, out);
  CHECK(s.code() == wire_errc::truncated);
  CHECK_THAT(s.message(), Catch::Contains(".cents"));
}

TEST_CASE("an empty TROUPE_MESSAGE class encodes to its id alone", "[wire][message]") {
  STATIC_REQUIRE(wire::has_codec<msgtest::ping>);
  const auto bytes = wire::encode_message(msgtest::ping{});
  CHECK(bytes.size() == 8);
  wire::any_message m;
  REQUIRE(wire::decode_message(bytes, m).ok());
  CHECK(m.is<msgtest::ping>());
  auto longer = bytes;
  longer.push_back(std::byte{0});
  CHECK(wire::decode_message(longer, m).code() == wire_errc::trailing_bytes);
}

TEST_CASE("a message round-trips through any_message", "[wire][message]") {
  const msgtest::order o{"ada", 3};
  const auto bytes = wire::encode_message(o);
  REQUIRE(bytes.size() == 8 + 1 + 3 + 4);
  wire::any_message m;
  REQUIRE(wire::decode_message(bytes, m).ok());
  CHECK(m.has_value());
  CHECK(m.name() == "test.shop.order.v1");
  CHECK(m.id() == wire::message_id_v<msgtest::order>);
  CHECK(m.is<msgtest::order>());
  CHECK_FALSE(m.is<msgtest::cancel>());
  CHECK(m.get<msgtest::order>() == o);
  CHECK(m.get_if<msgtest::cancel>() == nullptr);
  CHECK(kind_of_throw([&] { (void)m.get<msgtest::cancel>(); }) == wire_errc::type_conflict);

  wire::any_message moved = std::move(m);
  CHECK_FALSE(m.has_value());  // NOLINT(bugprone-use-after-move): documented state
  CHECK(moved.get<msgtest::order>().customer == "ada");

  const wire::any_message thrown = wire::decode_message(bytes);
  CHECK(thrown.get<msgtest::order>().qty == 3);
}

TEST_CASE("an any_message made from a value encodes like the value", "[wire][message]") {
  const wire::any_message m(msgtest::order{"bob", 1});
  std::vector<std::byte> out;
  wire::writer w(out);
  wire::write_message(w, m);
  CHECK(out == wire::encode_message(msgtest::order{"bob", 1}));
  CHECK(wire::encode_message(m) == out);
  CHECK(kind_of_throw([] { wire::any_message bad(msgtest::never_registered{}); }) ==
        wire_errc::unknown_type);
  CHECK(kind_of_throw([] {
          std::vector<std::byte> o;
          wire::writer ww(o);
          wire::write_message(ww, wire::any_message());
        }) == wire_errc::unknown_type);
}

TEST_CASE("register_message registers a type at run time", "[wire][message]") {
  wire::registry reg;
  const auto id = reg.add<msgtest::runtime_only>("test.runtime.v1");
  CHECK(id == wire::message_id_of("test.runtime.v1"));
  CHECK(reg.add<msgtest::runtime_only>("test.runtime.v1") == id);  // idempotent
  CHECK(reg.size() == 1);
  msgtest::runtime_only r;
  r.items = {"x", "y"};
  const auto bytes = wire::encode_message(r, {}, reg);
  wire::any_message m;
  REQUIRE(wire::decode_message(bytes, m, {}, reg).ok());
  CHECK(m.get<msgtest::runtime_only>().items == r.items);
  // Not in the global registry.
  CHECK(wire::decode_message(bytes, m).code() == wire_errc::unknown_type);
}

TEST_CASE("unknown_type: an id that is not registered", "[wire][message]") {
  auto bytes = wire::encode_message(msgtest::cancel{7});
  bytes[0] ^= std::byte{0x01};
  wire::any_message m(msgtest::cancel{1});
  const wire::status s = wire::decode_message(bytes, m);
  INFO(s.message());
  CHECK(s.code() == wire_errc::unknown_type);
  CHECK(s.message().find("is not registered") != std::string::npos);
  CHECK(s.message().find("0x") != std::string::npos);
  CHECK_FALSE(m.has_value());
  CHECK(kind_of_throw([] { (void)wire::encode_message(msgtest::never_registered{}); }) ==
        wire_errc::unknown_type);
}

TEST_CASE("a bad message body names the message and the field", "[wire][message]") {
  auto bytes = wire::encode_message(msgtest::order{"ada", 3});
  bytes.pop_back();
  wire::any_message m;
  const wire::status s = wire::decode_message(bytes, m);
  INFO(s.message());
  CHECK(s.code() == wire_errc::truncated);
  CHECK(s.message().find("decode message 'test.shop.order.v1' (msgtest::order) at .qty") !=
        std::string::npos);
  CHECK_FALSE(m.has_value());
  bytes = wire::encode_message(msgtest::order{"ada", 3});
  bytes.push_back(std::byte{0});
  CHECK(wire::decode_message(bytes, m).code() == wire_errc::trailing_bytes);
  CHECK_FALSE(m.has_value());
  CHECK(wire::decode_message(troupe::test::bytes_of({1, 2, 3}), m).code() == wire_errc::truncated);
}

TEST_CASE("type_conflict: a name, a type or an id registered twice", "[wire][message]") {
  wire::registry reg;
  reg.add<msgtest::runtime_only>("test.a");
  CHECK(kind_of_throw([&] { reg.add<msgtest::never_registered>("test.a"); }) ==
        wire_errc::type_conflict);
  CHECK(kind_of_throw([&] { reg.add<msgtest::runtime_only>("test.b"); }) ==
        wire_errc::type_conflict);
  // A TROUPE_MESSAGE type keeps its declared name.
  CHECK(kind_of_throw([&] { reg.add<msgtest::order>("test.other"); }) == wire_errc::type_conflict);
  CHECK(reg.add<msgtest::order>("test.shop.order.v1") == wire::message_id_v<msgtest::order>);
  try {
    reg.add<msgtest::never_registered>("test.a");
  } catch (const wire::wire_error& e) {
    CHECK(std::string(e.what()).find("already registered for msgtest::runtime_only") !=
          std::string::npos);
  }
}

TEST_CASE("message names have 1 to 255 bytes", "[wire][message]") {
  wire::registry reg;
  CHECK(kind_of_throw([&] { reg.add<msgtest::runtime_only>(""); }) == wire_errc::invalid_value);
  CHECK(kind_of_throw([&] { reg.add<msgtest::runtime_only>(std::string(256, 'n')); }) ==
        wire_errc::invalid_value);
  CHECK(reg.add<msgtest::runtime_only>(std::string(255, 'n')) != 0);
}

TEST_CASE("the registry takes registrations and lookups from many threads", "[wire][message]") {
  wire::registry reg;
  troupe::fuzz::register_fuzz_types(reg);
  std::atomic<bool> go{false};
  std::atomic<int> found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 200; ++i) {
        if (t == 0 && i == 100) reg.add<msgtest::runtime_only>("test.concurrent");
        if (reg.find(wire::message_id_of(troupe::fuzz::tree_name)) != nullptr) ++found;
        (void)reg.find<msgtest::runtime_only>();
        (void)reg.size();
      }
    });
  }
  go = true;
  for (auto& th : threads) th.join();
  CHECK(found == 800);
  CHECK(reg.find<msgtest::runtime_only>() != nullptr);
}

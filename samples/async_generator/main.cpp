// The talk's async generator demo: a coroutine produces values, one of them
// awaited from another coroutine, and a consumer iterates over them as they
// come ("async for"). The producer and consumer meet on a channel.
#include <iostream>
#include <string>
#include <troupe/troupe.hpp>

troupe::task<std::string> thing() { co_return "thing"; }

// The generator: each send waits until the consumer takes the value
// (capacity 0: a rendezvous, like a generator's yield).
troupe::task<> asyncgen(troupe::sender<std::string> out) {
  co_await out.send(co_await thing());  // await allowed inside the generator
  co_await out.send("two");
  out.close();  // ends the consumer's loop
}

// The consumer: "async for value in asyncgen()".
troupe::task<> function(troupe::receiver<std::string> in) {
  while (auto value = co_await in.recv()) std::cout << *value << '\n';
}

int main() {
  troupe::system sys;
  auto [tx, rx] = troupe::make_channel<std::string>(0);
  auto consumer = sys.go(function(std::move(rx)));
  sys.go(asyncgen(std::move(tx)));
  consumer.get();
}

// The talk's subinterpreters demo: an interpreter gets a copy of the state,
// not a share of it. Here the state is copied into an actor in a process of
// its own (an isolated actor, constructed there from an encoded copy): it
// mutates its copy, and the original, in this process, is untouched. No
// lock, and nothing to lock: nothing is shared. The handle is the same
// troupe::ref<Store> a pooled actor would have.
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <troupe/troupe.hpp>

using Stock = std::map<std::string, int>;

// One declaration per message type that crosses: its wire name and fields.
struct Take {
  std::string item;
  int count = 0;
};
TROUPE_MESSAGE(Take, "samples.isolated_state.take", item, count);

struct Show {};  // no fields
TROUPE_MESSAGE(Show, "samples.isolated_state.show");

class Store : public troupe::actor<Store> {
 public:
  explicit Store(Stock items) : items_(std::move(items)) {}  // a copy, made in the child
  int on(Take t) { return items_[t.item] -= t.count; }       // mutates the copy
  Stock on(Show /*unused*/) const { return items_; }

 private:
  Stock items_;
};
TROUPE_ISOLATED_ACTOR(Store, "samples.isolated_state.store");

namespace {
void print(const char* who, const Stock& s) {
  std::cout << who << ':';
  for (const auto& [item, n] : s) std::cout << ' ' << item << '=' << n;
  std::cout << '\n';
}
}  // namespace

int main(int argc, char** argv) {
  if (auto rc = troupe::nodes::child_main(argc, argv)) return *rc;  // in the child: runs it, exits

  const Stock original{{"apples", 10}, {"pears", 5}};
  troupe::system sys;
  troupe::ref<Store> store = sys.spawn<Store>(troupe::isolated, original);  // copied across
  const int left = store.ask(Take{"apples", 7}).get();
  const Stock copy = store.ask(Show{}).get();

  print("original, in this process", original);
  print("copy, in the isolated actor", copy);
  std::cout << "apples left in the copy: " << left << '\n';
  const bool own_process = store.location().pid != static_cast<int>(::getpid());
  const bool intact = original.at("apples") == 10 && copy.at("apples") == 3;
  std::cout << "the copy lives in another process: " << (own_process ? "yes" : "NO")
            << "; the original is intact: " << (intact ? "yes" : "NO") << '\n';
  return own_process && intact ? 0 : 1;
}

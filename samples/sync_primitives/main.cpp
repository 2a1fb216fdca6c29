// The talk's thread primitives (Lock, Event, Queue, Condition, Semaphore),
// each replaced by an actor or channel idiom: no mutex, no condition
// variable in user code.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>
#include <troupe/troupe.hpp>
#include <vector>

using namespace std::chrono_literals;

// --- Lock: shared state guarded by a mutex -> state owned by an actor. ----
struct Deposit {
  long amount;
};
struct Balance {};
class Account : public troupe::actor<Account> {
 public:
  void on(Deposit d) { balance_ += d.amount; }  // one message at a time
  long on(Balance /*unused*/) const { return balance_; }

 private:
  long balance_ = 0;
};

// --- Condition: "wait until the stock reaches n" -> an actor that answers
// each waiter's ask when the condition becomes true. ----------------------
struct Restock {
  int n;
};
struct WaitFor {
  int at_least;
  troupe::promise<int> reply;  // answered when the condition holds
};
class Store : public troupe::actor<Store> {
 public:
  void on(WaitFor w) {
    waiting_.push_back({w.at_least, std::move(w.reply)});
    wake();
  }
  void on(Restock r) {
    stock_ += r.n;
    wake();
  }

 private:
  struct waiter {
    int at_least;
    troupe::promise<int> p;
  };
  void wake() {
    std::erase_if(waiting_, [&](waiter& w) {
      if (stock_ < w.at_least) return false;
      w.p.set_value(stock_);
      return true;
    });
  }
  int stock_ = 0;
  std::vector<waiter> waiting_;
};

int main() {
  troupe::system sys;

  // Lock
  {
    auto account = sys.spawn<Account>();
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([account] {
        for (int i = 0; i < 1000; ++i) account.send(Deposit{1});
      });
    }
    for (auto& t : ts) t.join();
    std::cout << "Lock -> actor: balance " << account.ask(Balance{}).get() << " (expected 4000)\n";
  }

  // Event: one setter, many waiters -> a channel that is closed to set it.
  // Closing wakes every receiver at once (Go's `close(done)` idiom).
  {
    auto [set_event, event] = troupe::make_channel<int>(0);
    auto [done_tx, done_rx] = troupe::make_channel<int>(troupe::unbounded);
    for (int i = 0; i < 3; ++i) {
      sys.go([event = event, tx = done_tx]() -> troupe::task<> {
        (void)co_await event.recv();  // waits until the event is set (closed)
        co_await tx.send(1);
      });
    }
    { auto drop = std::move(done_tx); }  // main's sender goes; the tasks keep theirs
    set_event.close();                   // event.set()
    int released = 0;
    for (int v : done_rx) released += v;
    std::cout << "Event -> closed channel: " << released << " waiters released\n";
  }

  // Queue: producer/consumer -> a bounded channel (capacity 4).
  {
    auto [tx, rx] = troupe::make_channel<int>(4);
    sys.go([tx = std::move(tx)]() mutable -> troupe::task<> {
      for (int i = 1; i <= 100; ++i) co_await tx.send(i);
      tx.close();
    });
    long sum = 0;
    for (int v : rx) sum += v;
    std::cout << "Queue -> channel: consumed sum " << sum << " (expected 5050)\n";
  }

  // Condition
  {
    auto store = sys.spawn<Store>();
    troupe::promise<int> reply;
    auto ready = reply.get_future();
    store.send(WaitFor{10, std::move(reply)});  // cond.wait_for(stock >= 10)
    for (int i = 0; i < 5; ++i) store.send(Restock{3});
    std::cout << "Condition -> actor: woke when stock was " << ready.get() << '\n';
  }

  // Semaphore: at most 3 at a time -> a channel holding 3 tokens.
  {
    auto [give, take] = troupe::make_channel<int>(3);
    for (int i = 0; i < 3; ++i) (void)give.try_send(1);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    std::vector<troupe::task_handle<void>> workers;
    for (int i = 0; i < 10; ++i) {
      workers.push_back(sys.go([&, give = give, take = take]() -> troupe::task<> {
        (void)co_await take.recv();  // acquire
        const int now = inside.fetch_add(1) + 1;
        int prev = most.load();
        while (now > prev && !most.compare_exchange_weak(prev, now)) {
        }
        co_await troupe::sleep_for(5ms);
        inside.fetch_sub(1);
        co_await give.send(1);  // release
      }));
    }
    for (auto& w : workers) w.get();
    std::cout << "Semaphore -> channel of tokens: at most " << most.load() << " at once\n";
  }
}

#include "troupe/actors/error.hpp"

namespace troupe {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "troupe"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::handler_threw:
        return "handler threw";
      case errc::actor_dead:
        return "actor is dead";
      case errc::timeout:
        return "timed out";
      case errc::mailbox_full:
        return "mailbox full";
      case errc::peer_lost:
        return "peer lost";
      case errc::system_shutdown:
        return "system is shut down";
      case errc::broken_promise:
        return "broken promise";
      case errc::future_retrieved:
        return "future already retrieved or empty";
      case errc::would_block_worker:
        return "would block a pool worker thread";
      case errc::channel_closed:
        return "channel closed";
      case errc::cancelled:
        return "cancelled";
      case errc::invalid_argument:
        return "invalid argument";
    }
    return "unknown troupe error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& troupe_category() noexcept {
  static const category instance;
  return instance;
}

}  // namespace troupe

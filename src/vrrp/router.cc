#include "vrrp/router.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::vrrp {
namespace {

Time to_time(Centiseconds cs) { return std::chrono::duration_cast<Time>(cs); }

std::int64_t to_ms(Time t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t).count(); }

}  // namespace

Status validate(const RouterConfig& c) {
  auto bad = [](std::string why) { return Status(StatusCode::kInvalidArgument, std::move(why)); };
  if (c.vrid == 0) return bad("virtual router id 0: ids are 1..255");
  if (c.priority <= kLastWordPriority) {
    return bad(fmt::format("priority {} is reserved ({}); use 2..255", c.priority,
                           c.priority == 0 ? "releasing" : "the last word"));
  }
  if (c.interval < kMinAdvertInterval || c.interval > kMaxAdvertInterval) {
    return bad(fmt::format("advertisement interval {} cs: it is 1..4095 centiseconds",
                           c.interval.count()));
  }
  if (c.self.value == 0) return bad("the router's own address is 0.0.0.0");
  if (c.addresses.empty() || c.addresses.size() > 255) {
    return bad(fmt::format("{} virtual addresses: a router has 1..255", c.addresses.size()));
  }
  std::set<Ipv4> seen;
  for (Ipv4 a : c.addresses) {
    if (!seen.insert(a).second) return bad("virtual address " + to_string(a) + " is listed twice");
  }
  if (c.preempt_delay.count() < 0 || c.garp_repeat_after.count() < 0 ||
      c.garp_refresh.count() < 0) {
    return bad("a negative delay");
  }
  return Status::ok();
}

Router::Router(RouterConfig config) : config_(std::move(config)), master_interval_(config_.interval) {
  const Status valid = validate(config_);
  SPOFLESS_CHECK(valid.is_ok(), "a router is made from a validated configuration");
}

std::uint8_t Router::priority() const {
  if (penalty_ == 0) return config_.priority;
  // A penalized owner stops claiming ownership: at most 254; and at least 2, above the last
  // word's priority, so that any master that a penalty lowers still hears last words.
  const int lowered = std::min(int{config_.priority}, 254) - int{penalty_};
  return static_cast<std::uint8_t>(std::max(lowered, kLastWordPriority + 1));
}

Time Router::skew_time() const {
  return Time{(256 - std::int64_t{priority()}) * to_time(master_interval_).count() / 256};
}

Time Router::master_down_interval() const { return 3 * to_time(master_interval_) + skew_time(); }

std::optional<Time> Router::next_deadline() const {
  std::optional<Time> next;
  for (const std::optional<Time>& t :
       {master_down_at_, advert_at_, garp_repeat_at_, garp_refresh_at_}) {
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

Actions Router::start(Time now) {
  SPOFLESS_CHECK(state_ == State::kInitialize, "start() once, or again after shutdown()");
  master_interval_ = config_.interval;
  if (priority() == kOwnerPriority) return become_master(now, "owner of the addresses (priority 255)");
  Actions out;
  become_backup(now, out, "started");
  // Clients may hold this router's MAC from before a crash or a shutdown whose priority 0 was
  // lost: the master hearing our last word re-announces.
  last_words_left_ = kLastWords;
  return out;
}

Actions Router::shutdown(Time /*now*/) {
  Actions out;
  if (state_ == State::kInitialize) return out;
  out.push_back(Transition{state_, State::kInitialize, "shut down"});
  if (state_ == State::kMaster) {
    out.push_back(RemoveAddresses{});
    out.push_back(SendAdvert{kReleasePriority});
  }
  state_ = State::kInitialize;
  master_.reset();
  master_down_at_.reset();
  advert_at_.reset();
  garp_repeat_at_.reset();
  garp_refresh_at_.reset();
  lower_master_since_.reset();
  last_words_left_ = 0;
  return out;
}

Actions Router::receive(const Advert& advert, Ipv4 src, Time now) {
  Actions out;
  // Our own advertisement looped back by multicast is not another router's.
  if (state_ == State::kInitialize || advert.vrid != config_.vrid || src == config_.self) return out;
  // RFC 5798 §7.1: a router that is not the owner must advertise our addresses, or it is
  // misconfigured and following it would leave them down.
  if (advert.priority != kOwnerPriority && !same_addresses(advert.addresses)) {
    ++mismatched_;
    return out;
  }
  if (state_ == State::kBackup) {
    backup_receive(advert, src, now, out);
  } else {
    master_receive(advert, src, now, out);
  }
  return out;
}

bool Router::same_addresses(std::vector<Ipv4> addresses) const {
  std::vector<Ipv4> ours = config_.addresses;
  std::sort(ours.begin(), ours.end());
  std::sort(addresses.begin(), addresses.end());
  return ours == addresses;
}

// §6.4.2, with keepalived's preemption delay.
void Router::backup_receive(const Advert& advert, Ipv4 src, Time now, Actions& out) {
  if (advert.priority == kReleasePriority) {
    master_down_at_ = now + skew_time();  // the master left: the best backup goes first
    down_reason_ = fmt::format("master {} released (priority 0); waited Skew_Time {} ms",
                               to_string(src), to_ms(skew_time()));
    return;
  }
  // Another router's last word is not a master to follow (a backup that does not preempt
  // would otherwise take its interval).
  if (advert.priority == kLastWordPriority && master_ && *master_ != src) return;
  bool follow = !config_.preempt || advert.priority >= priority();
  if (!follow && config_.preempt_delay.count() > 0) {
    if (!lower_master_since_) lower_master_since_ = now;
    follow = now - *lower_master_since_ < config_.preempt_delay;
  }
  if (!follow) {  // a worse master: let Master_Down_Timer run out, then take over
    down_reason_ = fmt::format("preempting master {} (priority {}, ours {})", to_string(src),
                               advert.priority, priority());
    return;
  }
  if (advert.priority >= priority()) lower_master_since_.reset();
  master_interval_ = advert.interval;
  master_ = src;
  master_down_at_ = now + master_down_interval();
  down_reason_ = fmt::format("master {} silent for {} ms", to_string(src),
                             to_ms(master_down_interval()));
  if (last_words_left_ > 0 && beats_last_word(advert.priority, src)) {
    --last_words_left_;
    out.push_back(SendAdvert{kLastWordPriority});
  }
}

// Whether a master with this priority and address beats our last word, and so re-announces
// on hearing it rather than stepping down.
bool Router::beats_last_word(std::uint8_t priority, Ipv4 src) const {
  return std::pair(kLastWordPriority, config_.self) < std::pair(priority, src);
}

// §6.4.3, plus the re-announcements that keep clients' ARP caches right.
void Router::master_receive(const Advert& advert, Ipv4 src, Time now, Actions& out) {
  if (advert.priority == kReleasePriority) {
    advertise(now, out);
    announce(now, out);  // clients may still have the releasing router's MAC
    return;
  }
  const bool better = advert.priority > priority() ||
                      (advert.priority == priority() && src > config_.self);
  if (!better) {
    advertise(now, out);  // a worse master: two masters means a split brain healing
    announce(now, out);
    return;
  }
  master_interval_ = advert.interval;
  master_ = src;
  become_backup(now, out,
                fmt::format("heard master {} with priority {} (ours {})", to_string(src),
                            advert.priority, priority()));
  // The last word: the new master hears a worse master and re-announces, even if its own
  // advertisement reached us before ours reached it. Said again in answer to the new
  // master's next advertisements, in case it was lost.
  if (beats_last_word(advert.priority, src)) out.push_back(SendAdvert{kLastWordPriority});
  last_words_left_ = kLastWords - 1;
}

Actions Router::tick(Time now) {
  Actions out;
  if (state_ == State::kBackup && master_down_at_ && now >= *master_down_at_) {
    return become_master(now, down_reason_);
  }
  if (state_ != State::kMaster) return out;
  if (advert_at_ && now >= *advert_at_) advertise(now, out);
  if (garp_repeat_at_ && now >= *garp_repeat_at_) {
    garp_repeat_at_.reset();
    announce(now, out);
  }
  if (garp_refresh_at_ && now >= *garp_refresh_at_) announce(now, out);
  return out;
}

Actions Router::set_penalty(std::uint8_t weight, Time now) {
  Actions out;
  if (weight == penalty_) return out;
  penalty_ = weight;
  if (state_ == State::kMaster) advertise(now, out);  // backups learn the new priority now
  return out;
}

Actions Router::become_master(Time now, std::string reason) {
  Actions out;
  out.push_back(Transition{state_, State::kMaster, std::move(reason)});
  state_ = State::kMaster;
  master_ = config_.self;
  master_down_at_.reset();
  lower_master_since_.reset();
  last_words_left_ = 0;
  out.push_back(AddAddresses{});
  advertise(now, out);
  announce(now, out);
  garp_repeat_at_.reset();
  if (config_.garp_repeat_after.count() > 0) garp_repeat_at_ = now + config_.garp_repeat_after;
  return out;
}

void Router::become_backup(Time now, Actions& out, std::string reason) {
  out.push_back(Transition{state_, State::kBackup, std::move(reason)});
  if (state_ == State::kMaster) out.push_back(RemoveAddresses{});
  state_ = State::kBackup;
  down_reason_ = master_ && *master_ != config_.self
                     ? fmt::format("master {} silent for {} ms", to_string(*master_),
                                   to_ms(master_down_interval()))
                     : fmt::format("no master heard in {} ms", to_ms(master_down_interval()));
  advert_at_.reset();
  garp_repeat_at_.reset();
  garp_refresh_at_.reset();
  master_down_at_ = now + master_down_interval();
}

void Router::advertise(Time now, Actions& out) {
  out.push_back(SendAdvert{priority()});
  advert_at_ = now + to_time(config_.interval);
}

void Router::announce(Time now, Actions& out) {
  out.push_back(AnnounceAddresses{});
  garp_refresh_at_.reset();
  if (config_.garp_refresh.count() > 0) garp_refresh_at_ = now + config_.garp_refresh;
}

}  // namespace spofless::vrrp

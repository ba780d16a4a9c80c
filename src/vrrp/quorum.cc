#include "vrrp/quorum.h"

#include <algorithm>
#include <functional>

#include "core/check.h"

namespace spofless::vrrp {

Voter::Voter(Ipv4 self, Time lease, Time now) : self_(self), lease_(lease), quiet_until_(now + lease) {}

Grant Voter::ask(const Ask& ask, Time now) {
  Grant g{self_, ask.from, ask.seq, false, 0};
  if (ask.voter != self_) return g;  // misaddressed
  if (now < quiet_until_) return g;  // may have granted someone just before a restart
  const bool free = !holder_ || *holder_ == ask.from || now >= until_;
  if (!free) {
    contender_priority_ = std::max(contender_priority_, ask.priority);
    return g;
  }
  if (holder_ != ask.from) {
    contender_priority_ = 0;  // contenders of the previous holder
    holder_seq_ = 0;
  }
  holder_ = ask.from;
  holder_seq_ = std::max(holder_seq_, ask.seq);
  until_ = now + lease_;
  g.granted = true;
  g.contender_priority = contender_priority_;
  contender_priority_ = 0;
  return g;
}

void Voter::release(const Release& r) {
  if (r.voter != self_ || holder_ != r.from || r.seq < holder_seq_) return;
  holder_.reset();
  holder_seq_ = 0;
  contender_priority_ = 0;
}

std::optional<Ipv4> Voter::holder(Time now) const {
  if (!holder_ || now >= until_) return std::nullopt;
  return holder_;
}

Ballot::Ballot(Ipv4 self, std::vector<Ipv4> voters, Time lease, std::uint64_t first_seq,
               std::uint32_t drift_percent)
    : self_(self),
      voters_(std::move(voters)),
      counted_lease_(lease * (100 - std::int64_t{drift_percent}) / 100),
      next_seq_(std::max<std::uint64_t>(first_seq, 1)) {
  SPOFLESS_CHECK(drift_percent < 100, "a drift margin below the whole lease");
  SPOFLESS_CHECK(std::find(voters_.begin(), voters_.end(), self_) != voters_.end(),
                 "a router votes too");
}

std::vector<Ask> Ballot::asks(std::uint8_t priority, Time now) {
  // An ask older than the counted lease can no longer yield a valid grant.
  std::erase_if(sent_, [&](const auto& s) { return s.second + counted_lease_ <= now; });
  const std::uint64_t seq = next_seq_++;
  sent_[seq] = now;
  std::vector<Ask> out;
  out.reserve(voters_.size());
  for (Ipv4 v : voters_) out.push_back(Ask{self_, v, priority, seq});
  return out;
}

void Ballot::on_grant(const Grant& grant) {
  if (grant.asker != self_) return;
  if (std::find(voters_.begin(), voters_.end(), grant.voter) == voters_.end()) return;
  auto sent = sent_.find(grant.seq);
  if (sent == sent_.end()) return;  // forgotten: too old, or from before release()
  if (!grant.granted) {
    held_.erase(grant.voter);
    return;
  }
  const Time until = sent->second + counted_lease_;
  auto [it, fresh] = held_.try_emplace(grant.voter, Held{until, grant.contender_priority});
  if (!fresh && it->second.valid_until < until) it->second = Held{until, grant.contender_priority};
}

std::vector<Release> Ballot::release() {
  held_.clear();
  sent_.clear();
  std::vector<Release> out;
  for (Ipv4 v : voters_) out.push_back(Release{self_, v, next_seq_ - 1});
  return out;
}

Time Ballot::majority_until() const {
  // The majority()-th latest expiry: until then at least majority() grants are valid.
  std::vector<Time> expiries;
  for (const auto& [voter, held] : held_) expiries.push_back(held.valid_until);
  if (expiries.size() < majority()) return Time{0};
  std::nth_element(expiries.begin(), expiries.begin() + static_cast<std::ptrdiff_t>(majority() - 1),
                   expiries.end(), std::greater<>());
  return expiries[majority() - 1];
}

std::uint8_t Ballot::contender_priority(Time now) const {
  std::uint8_t best = 0;
  for (const auto& [voter, held] : held_) {
    if (held.valid_until > now) best = std::max(best, held.contender_priority);
  }
  return best;
}

}  // namespace spofless::vrrp

#pragma once

// The split-brain guard's endorsements (docs/vip.md, "Split-brain guard"), pure. A router may
// be master only while a majority of the voters (the routers themselves and the witnesses)
// endorse it; every voter endorses at most one router at a time, by a lease. So two routers
// never hold a majority at once, whatever the network does, as long as clocks run at rates
// within limits::kVrrpMaxClockDriftPercent of each other.
//
//   router ──Ask{seq, priority}──► voter        every advertisement interval, to every voter
//   router ◄──Grant{seq, granted}── voter       granted: the lease is the asker's for L
//
// The voter (Voter) grants the asker when it endorses nobody, or the asker already, or its
// last grant is older than L on the voter's clock; a voter that (re)starts grants nothing for
// L, since it may have granted just before. The asker (Ballot) counts a grant valid until the
// time it *sent* that ask plus L less the drift margin, on its own clock: the voter granted
// after the ask was sent, so the voter's lease ends later in real time than the asker's count.

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/limits.h"
#include "vrrp/router.h"
#include "vrrp/types.h"

namespace spofless::vrrp {

struct Ask {
  Ipv4 from;
  std::uint8_t priority = 0;  // the asker's, so that an incumbent learns of better contenders
  std::uint64_t seq = 0;      // the asker's, echoed in the grant
};

struct Grant {
  Ipv4 voter;
  std::uint64_t seq = 0;    // of the ask it answers
  bool granted = false;
  // The highest priority among askers this voter refused since it last granted this asker:
  // an incumbent that sees one above its own can step down for it (preemption).
  std::uint8_t contender_priority = 0;
};

class Voter {
 public:
  // `now` is when the voter starts: it grants nothing before now + lease.
  Voter(Ipv4 self, Time lease, Time now);

  Grant ask(const Ask& ask, Time now);
  // The holder gives up its endorsement (it stepped down): the next asker may have it at once.
  void release(Ipv4 from);

  // Whom this voter endorses at `now`, if anyone.
  std::optional<Ipv4> holder(Time now) const;

 private:
  Ipv4 self_;
  Time lease_;
  Time quiet_until_;
  std::optional<Ipv4> holder_;
  Time until_{0};
  std::uint8_t contender_priority_ = 0;
};

class Ballot {
 public:
  // `voters`: every voter's address, this router's own included; a majority is more than half.
  Ballot(Ipv4 self, std::vector<Ipv4> voters, Time lease,
         std::uint32_t drift_percent = limits::kVrrpMaxClockDriftPercent);

  // One ask to every voter, numbered afresh; remembers when it was sent.
  std::vector<std::pair<Ipv4, Ask>> asks(std::uint8_t priority, Time now);
  void on_grant(const Grant& grant);
  // Forgets every grant (after stepping down, or to start over).
  void clear();

  bool has_majority(Time now) const;
  // The highest contender priority reported by a valid grant.
  std::uint8_t contender_priority(Time now) const;
  std::size_t majority() const { return voters_.size() / 2 + 1; }

 private:
  struct Held {
    Time valid_until;
    std::uint8_t contender_priority;
  };
  Ipv4 self_;
  std::vector<Ipv4> voters_;
  Time counted_lease_;                   // lease less the drift margin
  std::uint64_t next_seq_ = 1;
  std::map<std::uint64_t, Time> sent_;   // seq -> when asked (the recent ones)
  std::map<Ipv4, Held> held_;            // by voter
};

}  // namespace spofless::vrrp

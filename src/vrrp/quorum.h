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

// Asks are numbered by the asker, increasing across its restarts too (the shell starts from
// the wall clock in microseconds): a grant or a release is matched to the ask it answers or
// ends, and one left over from an earlier run can never pass for a newer one.
struct Ask {
  Ipv4 from;
  Ipv4 voter;                 // whom it asks
  std::uint8_t priority = 0;  // the asker's, so that an incumbent learns of better contenders
  std::uint64_t seq = 0;
};

struct Grant {
  Ipv4 voter;
  Ipv4 asker;               // whom it answers
  std::uint64_t seq = 0;    // of the ask it answers
  bool granted = false;
  // The highest priority among askers this voter refused since it last granted this asker:
  // an incumbent that sees one above its own can step down for it (preemption).
  std::uint8_t contender_priority = 0;
};

// The holder gives its endorsement up (it stepped down). `seq` is the last ask it sent: a
// release overtaken by a newer granted ask is ignored.
struct Release {
  Ipv4 from;
  Ipv4 voter;
  std::uint64_t seq = 0;
};

class Voter {
 public:
  // `now` is when the voter starts: it grants nothing before now + lease.
  Voter(Ipv4 self, Time lease, Time now);

  // An ask addressed to another voter is refused.
  Grant ask(const Ask& ask, Time now);
  // Frees the endorsement at once if `release` comes from the holder and covers its newest
  // granted ask.
  void release(const Release& release);

  // Whom this voter endorses at `now`, if anyone.
  std::optional<Ipv4> holder(Time now) const;

 private:
  Ipv4 self_;
  Time lease_;
  Time quiet_until_;
  std::optional<Ipv4> holder_;
  std::uint64_t holder_seq_ = 0;  // the newest ask granted to the holder
  Time until_{0};
  std::uint8_t contender_priority_ = 0;
};

class Ballot {
 public:
  // `voters`: every voter's address, this router's own included; a majority is more than half.
  // `first_seq`: above every seq an earlier run of this router used (see Ask).
  Ballot(Ipv4 self, std::vector<Ipv4> voters, Time lease, std::uint64_t first_seq,
         std::uint32_t drift_percent = limits::kVrrpMaxClockDriftPercent);

  // One ask to every voter, numbered afresh; remembers when it was sent.
  std::vector<Ask> asks(std::uint8_t priority, Time now);
  // A grant for another asker, or for an ask this ballot does not remember, is ignored.
  void on_grant(const Grant& grant);
  // Gives every endorsement up: forgets the grants and returns one release per voter.
  std::vector<Release> release();

  bool has_majority(Time now) const { return majority_until() > now; }
  // When the majority lapses unless renewed (Time{0} without one). A shell removes the
  // addresses early enough before it to finish by then.
  Time majority_until() const;
  // The highest contender priority reported by a grant still valid at `now`.
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
  std::uint64_t next_seq_;
  std::map<std::uint64_t, Time> sent_;   // seq -> when asked (the recent ones)
  std::map<Ipv4, Held> held_;            // by voter
};

}  // namespace spofless::vrrp

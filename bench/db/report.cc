#include "bench/db/report.h"

#include <algorithm>

#include <fmt/format.h>

#include "bench/db/bench_limits.h"

namespace spofless::bench {
namespace {

// The goals of the issue: spofless db writes at least 3x etcd's rate at 64 writers, and fails
// over no slower than etcd at equal timeouts and within one second at its defaults.
constexpr std::size_t kGoalWriters = 64;
constexpr double kGoalWriteRatio = 3.0;
constexpr double kGoalFailoverMs = 1000.0;

using Rounds = std::vector<PhaseSummary>;

// The round with the median rate (the lower middle one for an even count); null when none ran.
const PhaseSummary* median_round(const Rounds* rounds) {
  if (rounds == nullptr || rounds->empty()) return nullptr;
  std::vector<const PhaseSummary*> sorted;
  for (const PhaseSummary& r : *rounds) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(), [](const PhaseSummary* a, const PhaseSummary* b) {
    return a->ops_per_second < b->ops_per_second;
  });
  return sorted[(sorted.size() - 1) / 2];
}

const Rounds* write_rounds(const SideReport& side, std::size_t i) {
  return i < side.writes.size() ? &side.writes[i] : nullptr;
}

// "    1234.5     3.21     9.87" for one side of a row, or dashes when the phase did not run.
std::string cells(const PhaseSummary* r) {
  if (r == nullptr) return fmt::format("{:>10} {:>8} {:>8}", "-", "-", "-");
  return fmt::format("{:>10.1f} {:>8.2f} {:>8.2f}", r->ops_per_second, r->p50_ms, r->p99_ms);
}

std::string ratio(const PhaseSummary* etcd, const PhaseSummary* spofless) {
  if (etcd == nullptr || spofless == nullptr || etcd->ops_per_second <= 0) return "-";
  return fmt::format("{:.2f}x", spofless->ops_per_second / etcd->ops_per_second);
}

// The range of rates over the rounds, when there was more than one, and failed requests, when
// there were any, so that a noisy or failing side cannot pass unnoticed.
std::string notes(const char* side, const Rounds* rounds) {
  if (rounds == nullptr || rounds->empty()) return "";
  std::string out;
  if (rounds->size() > 1) {
    auto [lo, hi] = std::minmax_element(rounds->begin(), rounds->end(),
                                        [](const PhaseSummary& a, const PhaseSummary& b) {
                                          return a.ops_per_second < b.ops_per_second;
                                        });
    out += fmt::format("  {} {:.0f}..{:.0f}", side, lo->ops_per_second, hi->ops_per_second);
  }
  std::size_t errors = 0;
  std::string first;
  for (const PhaseSummary& r : *rounds) {
    errors += r.errors;
    if (first.empty()) first = r.first_error;
  }
  if (errors > 0) out += fmt::format("  [{} errors: {}; first: {}]", side, errors, first);
  return out;
}

void print_header(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                  const SideReport& spofless) {
  fmt::print(out,
             "\nspofless db vs etcd: {} nodes each on this machine, fsync on, {}-byte values, "
             "{:g} s per phase, {} round(s)\n",
             kClusterNodes, kValueBytes, shape.seconds, shape.rounds);
  auto probe = [](const std::optional<DiskProbe>& p) {
    return p ? fmt::format("p50 {:.2f} ms, max {:.2f} ms", p->p50_ms, p->max_ms)
             : std::string("not measured");
  };
  fmt::print(out,
             "data on {} (a real disk, not tmpfs); 4 KiB append + fdatasync there: {} before the "
             "run, {} after\n",
             shape.data_dir, probe(shape.disk_before), probe(shape.disk_after));
  for (const SideReport* side : {&etcd, &spofless}) {
    if (side->enabled) fmt::print(out, "  {}\n", side->settings);
  }
  fmt::print(out,
             "clients: closed loop, one connection per worker, all to the leader. etcd through its "
             "JSON gateway\n  (HTTP/1.1 keep-alive: JSON + base64 each way); spofless over RESP2 "
             "(SET/GET). Both reads linearizable.\n");
  if (etcd.enabled && spofless.enabled) {
    fmt::print(out,
               "order: interleaved (etcd W=1, spofless W=1, etcd W=16, ..., reads; then the next "
               "round); both clusters\n  run throughout, the idle one idles.\n");
  }
  fmt::print(out, "Each figure comes from the round with the median rate.\n\n");
}

void print_row(std::FILE* out, const std::string& load, const Rounds* etcd,
               const Rounds* spofless) {
  const PhaseSummary* e = median_round(etcd);
  const PhaseSummary* s = median_round(spofless);
  fmt::print(out, "{:<10} | {} | {} | {:>7}{}{}\n", load, cells(e), cells(s), ratio(e, s),
             notes("etcd", etcd), notes("spofless", spofless));
}

void print_throughput(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                      const SideReport& spofless) {
  fmt::print(out, "{:<10} | {:>10} {:>8} {:>8} | {:>10} {:>8} {:>8} | {:>7}{}\n", "load",
             "etcd op/s", "p50 ms", "p99 ms", "spof op/s", "p50 ms", "p99 ms", "ratio",
             shape.rounds > 1 ? "  op/s range over the rounds" : "");
  fmt::print(out, "{:-<88}\n", "");
  for (std::size_t i = 0; i < shape.writer_counts.size(); ++i) {
    print_row(out, fmt::format("write W={}", shape.writer_counts[i]), write_rounds(etcd, i),
              write_rounds(spofless, i));
  }
  print_row(out, fmt::format("read R={}", shape.readers), &etcd.reads, &spofless.reads);
}

std::string cpu_cells(const Rounds* rounds) {
  const PhaseSummary* r = median_round(rounds);
  if (r == nullptr || r->ops == 0) return fmt::format("{:>9} {:>9}", "-", "-");
  double k = r->ops / 1000.0;
  return fmt::format("{:>9.3f} {:>9.3f}", r->server_cpu_seconds / k, r->client_cpu_seconds / k);
}

void print_cpu(std::FILE* out, const RunShape& shape, const SideReport& etcd,
               const SideReport& spofless) {
  fmt::print(out,
             "\nCPU seconds per 1000 acknowledged ops (server: the 3 processes' utime+stime from "
             "/proc; client: this bench)\n");
  fmt::print(out, "{:<10} | {:>9} {:>9} | {:>9} {:>9}\n", "load", "etcd srv", "client", "spof srv",
             "client");
  fmt::print(out, "{:-<56}\n", "");
  for (std::size_t i = 0; i < shape.writer_counts.size(); ++i) {
    fmt::print(out, "{:<10} | {} | {}\n", fmt::format("write W={}", shape.writer_counts[i]),
               cpu_cells(write_rounds(etcd, i)), cpu_cells(write_rounds(spofless, i)));
  }
  fmt::print(out, "{:<10} | {} | {}\n", fmt::format("read R={}", shape.readers),
             cpu_cells(&etcd.reads), cpu_cells(&spofless.reads));
}

std::vector<double> windows(const SideReport& side) {
  std::vector<double> out;
  for (const FailoverTrial& t : side.failovers) out.push_back(t.window_ms);
  return out;
}

void print_failover(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                    const SideReport& spofless) {
  fmt::print(out,
             "\nfailover: kill -9 of the leader under 1 writer; window = first ack of a write sent "
             "after the\nkill - last ack before it (ms). Write attempts time out after {} ms and "
             "move to the next node.\n",
             shape.failover_attempt_ms);
  for (const SideReport* side : {&etcd, &spofless}) {
    if (!side->enabled) continue;
    std::vector<double> w = windows(*side);
    if (w.empty()) {
      fmt::print(out, "  {:<9} no trial completed\n", side->name);
      continue;
    }
    fmt::print(out, "  {:<9} min {:>7.1f}  median {:>7.1f}  max {:>7.1f}\n", side->name,
               *std::min_element(w.begin(), w.end()), median(w),
               *std::max_element(w.begin(), w.end()));
    for (const FailoverTrial& t : side->failovers) {
      fmt::print(out,
                 "    {:>7.1f} ms: node {} killed (reaped in {:.1f} ms); after it {} attempts "
                 "failed, the longest took {:.0f} ms, the last: {}; rejoined in {:.0f} ms\n",
                 t.window_ms, t.killed_node + 1, t.kill_ms, t.failed_attempts, t.longest_attempt_ms,
                 t.last_error, t.rejoin_ms);
    }
  }
}

void print_goals(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                 const SideReport& spofless) {
  if (!etcd.enabled || !spofless.enabled) return;
  fmt::print(out, "\ngoals\n");
  auto at = std::find(shape.writer_counts.begin(), shape.writer_counts.end(), kGoalWriters);
  auto i = static_cast<std::size_t>(at - shape.writer_counts.begin());
  const PhaseSummary* e = median_round(write_rounds(etcd, i));
  const PhaseSummary* s = median_round(write_rounds(spofless, i));
  if (e != nullptr && s != nullptr && e->ops_per_second > 0) {
    double r = s->ops_per_second / e->ops_per_second;
    fmt::print(out, "  writes at {} writers >= {:g}x etcd: {:.2f}x  {}\n", kGoalWriters,
               kGoalWriteRatio, r, r >= kGoalWriteRatio ? "met" : "NOT MET");
  }
  std::vector<double> we = windows(etcd);
  std::vector<double> ws = windows(spofless);
  if (!we.empty() && !ws.empty()) {
    double me = median(we);
    double ms = median(ws);
    fmt::print(out, "  failover median <= etcd's at equal timeouts: {:.0f} vs {:.0f} ms  {}\n", ms,
               me, ms <= me ? "met" : "NOT MET");
    double worst = *std::max_element(ws.begin(), ws.end());
    fmt::print(out, "  failover < {:g} ms at the defaults (every trial): max {:.0f} ms  {}\n",
               kGoalFailoverMs, worst, worst < kGoalFailoverMs ? "met" : "NOT MET");
  }
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void print_report(std::FILE* out, const RunShape& shape, const SideReport& etcd,
                  const SideReport& spofless) {
  print_header(out, shape, etcd, spofless);
  print_throughput(out, shape, etcd, spofless);
  print_cpu(out, shape, etcd, spofless);
  if (shape.failover_trials > 0) print_failover(out, shape, etcd, spofless);
  print_goals(out, shape, etcd, spofless);
  std::fflush(out);
}

}  // namespace spofless::bench

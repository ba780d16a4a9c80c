// Real-process tests of the admin server every role mounts: the test-only admin_fixture is
// spawned on an ephemeral loopback port, spoken to over HTTP, checked with promtool and
// stopped with signals. Every wait is bounded; nothing depends on how fast the machine is.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "io/address.h"
#include "support/http_client.h"
#include "support/subprocess.h"

namespace spofless {
namespace {

using std::chrono::milliseconds;
using test_support::HttpResponse;
using test_support::Subprocess;

constexpr const char* kFixture = SPOFLESS_ADMIN_FIXTURE;
constexpr const char* kPromtool = "/usr/bin/promtool";
// Generous bounds for a loaded 2-core machine; reaching one means a hang, not slowness.
constexpr milliseconds kStartTimeout{20'000};
constexpr milliseconds kRequestTimeout{10'000};
constexpr milliseconds kExitTimeout{30'000};
// Long enough that a request sent right after `signal.received` lands inside the drain.
constexpr int kDrainMs = 2'000;

// A JSON log line of `event`, or nothing for other lines.
std::optional<nlohmann::json> event_line(std::string_view line, std::string_view event) {
  auto json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || json.value("event", "") != event) return std::nullopt;
  return json;
}

auto is_event(std::string_view event) {
  return [event](std::string_view line) { return event_line(line, event).has_value(); };
}

class AdminFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto process = Subprocess::spawn(kFixture, {"--log-format", "json", "--admin", "127.0.0.1:0",
                                                "--drain-ms", std::to_string(kDrainMs)});
    ASSERT_TRUE(process.is_ok()) << process.status().to_string();
    process_ = std::move(*process);
    auto line = process_->wait_for_line(is_event("admin.listening"), kStartTimeout);
    ASSERT_TRUE(line.is_ok()) << line.status().to_string();
    std::string addr = event_line(*line, "admin.listening")->value("addr", "");
    auto endpoint = io::parse_listen_address(addr);
    ASSERT_TRUE(endpoint.is_ok()) << endpoint.status().to_string();
    ASSERT_NE(endpoint->port(), 0) << "the log must name the bound port, not 0";
    admin_ = *endpoint;
  }

  HttpResponse get(std::string_view target, std::string_view method = "GET") {
    auto res = test_support::http_request(admin_, method, target, kRequestTimeout);
    EXPECT_TRUE(res.is_ok()) << method << " " << target << ": " << res.status().to_string();
    return res.is_ok() ? *res : HttpResponse{};
  }

  // Sends `signal_number`, checks /ready says "draining" while the drain runs, then that the
  // process exits 0 and logged the whole shutdown.
  void expect_orderly_stop(int signal_number, std::string_view signal_name) {
    ASSERT_TRUE(process_->send_signal(signal_number).is_ok());
    auto received = process_->wait_for_line(is_event("signal.received"), kStartTimeout);
    ASSERT_TRUE(received.is_ok()) << received.status().to_string();
    EXPECT_EQ(event_line(*received, "signal.received")->value("signal", ""), signal_name);

    // The signal handler starts draining before it logs, so the drain is visible already.
    HttpResponse ready = get("/ready");
    EXPECT_EQ(ready.status, 503u);
    EXPECT_EQ(ready.body, "draining\n");
    EXPECT_EQ(get("/health").status, 200u) << "alive while draining";

    auto exit = process_->wait_for_exit(kExitTimeout);
    ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
    EXPECT_TRUE(exit->ok()) << exit->to_string() << "\n" << process_->output();
    auto stopped = process_->wait_for_line(is_event("role.stopped"), milliseconds(0));
    ASSERT_TRUE(stopped.is_ok()) << stopped.status().to_string();
    EXPECT_EQ(event_line(*stopped, "role.stopped")->value("drain", ""), "completed");
  }

  std::unique_ptr<Subprocess> process_;
  boost::asio::ip::tcp::endpoint admin_;
};

TEST_F(AdminFixtureTest, HealthAndReadyAnswer200) {
  HttpResponse health = get("/health");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(health.body, "ok\n");
  HttpResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(ready.body, "ready\n");
}

TEST_F(AdminFixtureTest, StatusIsJsonWithTheRoleAndItsOwnFacts) {
  HttpResponse res = get("/status");
  ASSERT_EQ(res.status, 200u);
  EXPECT_EQ(res.header("content-type"), "application/json");
  auto status = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(status.is_object()) << res.body;
  EXPECT_EQ(status["role"], "fixture");
  EXPECT_TRUE(status["version"].is_string());
  EXPECT_EQ(status["pid"], process_->pid());
  EXPECT_TRUE(status["uptime_seconds"].is_number());
  EXPECT_EQ(status["ready"], true);
  EXPECT_EQ(status["ready_reason"], "");
  EXPECT_EQ(status["role_status"]["drain_ms"], kDrainMs);
}

TEST_F(AdminFixtureTest, MetricsUseThePrometheusTextContentType) {
  HttpResponse res = get("/metrics");
  ASSERT_EQ(res.status, 200u);
  EXPECT_EQ(res.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body.find("spofless_build_info{role=\"fixture\","), std::string::npos);
  EXPECT_NE(res.body.find("# TYPE process_start_time_seconds gauge"), std::string::npos);
}

TEST_F(AdminFixtureTest, UnknownPathIs404AndOtherMethodsAre405) {
  EXPECT_EQ(get("/nope").status, 404u);
  HttpResponse post = get("/health", "POST");
  EXPECT_EQ(post.status, 405u);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST_F(AdminFixtureTest, MalformedRequestGets400AndTheServerKeepsServing) {
  auto client = test_support::HttpClient::connect(admin_, kRequestTimeout);
  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  ASSERT_TRUE((*client)->send_raw("GET /health HTTP/1.1\r\nNo colon here\r\n\r\n").is_ok());
  auto reply = (*client)->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->rfind("HTTP/1.1 400 ", 0), 0u) << *reply;

  EXPECT_EQ(get("/health").status, 200u);
}

TEST_F(AdminFixtureTest, MetricsPassPromtoolCheck) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: run scripts/setup (it installs the Debian package prometheus)";
  get("/ready");  // so that requests_total has samples
  HttpResponse res = get("/metrics");
  ASSERT_EQ(res.status, 200u);
  std::string path = ::testing::TempDir() + "admin_test_metrics_" + std::to_string(getpid());
  std::ofstream(path) << res.body;

  Subprocess::Options options;
  options.stdin_path = path;
  options.stdout_to = Subprocess::StdoutTo::kStderrPipe;
  auto promtool = Subprocess::spawn(kPromtool, {"check", "metrics"}, options);
  ASSERT_TRUE(promtool.is_ok()) << promtool.status().to_string();
  auto exit = (*promtool)->wait_for_exit(kExitTimeout);
  std::remove(path.c_str());
  ASSERT_TRUE(exit.is_ok()) << exit.status().to_string();
  EXPECT_TRUE(exit->ok()) << "promtool: " << exit->to_string() << "\n"
                          << (*promtool)->output() << "\nmetrics:\n"
                          << res.body;
}

TEST_F(AdminFixtureTest, SigtermDrainsThenExitsZero) { expect_orderly_stop(SIGTERM, "SIGTERM"); }

TEST_F(AdminFixtureTest, SigintDrainsThenExitsZero) { expect_orderly_stop(SIGINT, "SIGINT"); }

}  // namespace
}  // namespace spofless

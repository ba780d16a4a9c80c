#include "io/admin_server.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include "support/http_client.h"

namespace spofless::io {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using test_support::HttpClient;
using test_support::HttpResponse;

constexpr std::chrono::milliseconds kTimeout{10'000};

// The server runs on its own io_context thread; the test talks to it over loopback and
// touches it only through on_io().
class AdminServerTest : public ::testing::Test {
 protected:
  void start(AdminLimits limits = {}) {
    AdminHandlers handlers;
    handlers.ready = [this](std::string_view query) {
      std::lock_guard lock(mu_);
      last_query_ = std::string(query);
      return query == "lag=5" ? Readiness::not_ready("lagging") : Readiness::ready();
    };
    handlers.status = [] { return nlohmann::json{{"leader", "n1"}}; };
    server_ =
        std::make_unique<AdminServer>(io_, registry_, std::move(handlers), "test", "1.2.3", limits);
    ASSERT_TRUE(server_->listen(tcp::endpoint(asio::ip::address_v4::loopback(), 0)).is_ok());
    endpoint_ = server_->local_endpoint();
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (!thread_.joinable()) return;
    asio::post(io_, [this] { io_.stop(); });
    thread_.join();
  }

  // Runs `fn` on the io_context thread and waits for it.
  void on_io(std::function<void()> fn) {
    std::promise<void> done;
    asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  HttpResponse get(std::string_view target, std::string_view method = "GET") {
    auto res = test_support::http_request(endpoint_, method, target, kTimeout);
    EXPECT_TRUE(res.is_ok()) << target << ": " << res.status().to_string();
    return res.is_ok() ? *res : HttpResponse{};
  }

  std::unique_ptr<HttpClient> connect() {
    auto client = HttpClient::connect(endpoint_, kTimeout);
    EXPECT_TRUE(client.is_ok()) << client.status().to_string();
    return client.is_ok() ? std::move(*client) : nullptr;
  }

  std::uint64_t requests(const std::string& path, const std::string& code) {
    return registry_
        .counter("spofless_admin_requests_total", "Admin HTTP requests by route and status code.",
                 {{"path", path}, {"code", code}})
        .value();
  }

  std::string last_query() {
    std::lock_guard lock(mu_);
    return last_query_;
  }

  obs::Registry registry_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
  tcp::endpoint endpoint_;
  std::mutex mu_;
  std::string last_query_;  // GUARDED_BY(mu_)
};

TEST_F(AdminServerTest, HealthIsOkOnAnEphemeralPort) {
  start();
  EXPECT_NE(endpoint_.port(), 0);
  HttpResponse res = get("/health");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.body, "ok\n");
  EXPECT_EQ(res.header("content-type"), "text/plain; charset=utf-8");
}

TEST_F(AdminServerTest, HeadSendsTheHeadersOfGetWithoutABody) {
  start();
  HttpResponse res = get("/health", "HEAD");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.header("content-length"), "3");
  EXPECT_EQ(res.body, "");
}

TEST_F(AdminServerTest, ReadyAsksTheHandlerAndPassesTheQueryString) {
  start();
  HttpResponse lagging = get("/ready?lag=5");
  EXPECT_EQ(lagging.status, 503u);
  EXPECT_EQ(lagging.body, "lagging\n");
  EXPECT_EQ(last_query(), "lag=5");
  HttpResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 200u);
  EXPECT_EQ(ready.body, "ready\n");
  EXPECT_EQ(last_query(), "");
}

TEST_F(AdminServerTest, DrainingTurnsReadyTo503AndLeavesHealthAlone) {
  start();
  on_io([&] { server_->start_draining(); });
  HttpResponse ready = get("/ready");
  EXPECT_EQ(ready.status, 503u);
  EXPECT_EQ(ready.body, "draining\n");
  EXPECT_EQ(get("/health").status, 200u);
  EXPECT_EQ(get("/metrics").status, 200u);
}

TEST_F(AdminServerTest, StatusCarriesProcessFactsAndTheRoleStatus) {
  start();
  HttpResponse res = get("/status");
  ASSERT_EQ(res.status, 200u);
  EXPECT_EQ(res.header("content-type"), "application/json");
  auto status = nlohmann::json::parse(res.body);
  EXPECT_EQ(status["role"], "test");
  EXPECT_EQ(status["version"], "1.2.3");
  EXPECT_EQ(status["pid"], ::getpid());
  EXPECT_GE(status["uptime_seconds"].get<double>(), 0.0);
  EXPECT_EQ(status["ready"], true);
  EXPECT_EQ(status["ready_reason"], "");
  EXPECT_EQ(status["role_status"], (nlohmann::json{{"leader", "n1"}}));

  on_io([&] { server_->start_draining(); });
  status = nlohmann::json::parse(get("/status").body);
  EXPECT_EQ(status["ready"], false);
  EXPECT_EQ(status["ready_reason"], "draining");
}

TEST_F(AdminServerTest, MetricsAreRenderedWithTheExpositionContentType) {
  start();
  HttpResponse res = get("/metrics");
  ASSERT_EQ(res.status, 200u);
  EXPECT_EQ(res.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res.body.find("spofless_build_info{role=\"test\",version=\"1.2.3\"} 1\n"),
            std::string::npos)
      << res.body;
  EXPECT_NE(res.body.find("\nprocess_start_time_seconds "), std::string::npos) << res.body;
}

TEST_F(AdminServerTest, RequestsAreCountedWithUnknownPathsFoldedIntoOther) {
  start();
  EXPECT_EQ(get("/health").status, 200u);
  EXPECT_EQ(get("/no/such/path").status, 404u);
  EXPECT_EQ(get("/another?x=1").status, 404u);
  EXPECT_EQ(requests("/health", "200"), 1u);
  EXPECT_EQ(requests("other", "404"), 2u);
}

TEST_F(AdminServerTest, OtherMethodsGet405WithAllow) {
  start();
  for (std::string_view method : {"POST", "PUT", "DELETE"}) {
    HttpResponse res = get("/metrics", method);
    EXPECT_EQ(res.status, 405u) << method;
    EXPECT_EQ(res.header("allow"), "GET, HEAD") << method;
  }
  EXPECT_EQ(get("/unknown", "POST").status, 404u);
}

TEST_F(AdminServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  auto client = connect();
  ASSERT_NE(client, nullptr);
  for (std::string_view target : {"/health", "/ready", "/metrics", "/status"}) {
    auto res = client->request("GET", target);
    ASSERT_TRUE(res.is_ok()) << target << ": " << res.status().to_string();
    EXPECT_EQ(res->status, 200u) << target;
    EXPECT_TRUE(res->keep_alive) << target;
  }
}

TEST_F(AdminServerTest, MalformedRequestGets400AndItsConnectionClosed) {
  start();
  auto client = connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->send_raw("GARBAGE\r\n\r\n").is_ok());
  auto reply = client->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u) << *reply;
  EXPECT_NE(reply->find("Connection: close\r\n"), std::string::npos) << *reply;
  EXPECT_EQ(get("/health").status, 200u) << "other connections are served";
  EXPECT_EQ(requests("other", "400"), 1u);
}

TEST_F(AdminServerTest, OversizedHeadersGet431) {
  start(AdminLimits{.request_max_bytes = 1024});
  auto client = connect();
  ASSERT_NE(client, nullptr);
  std::string request = "GET /health HTTP/1.1\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n";
  ASSERT_TRUE(client->send_raw(request).is_ok());
  auto reply = client->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->rfind("HTTP/1.1 431 ", 0), 0u) << *reply;
}

TEST_F(AdminServerTest, ConnectionsBeyondTheLimitAreClosedAtOnceAndCounted) {
  start(AdminLimits{.max_connections = 2});
  auto first = connect();
  auto second = connect();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // A response proves the server has accepted and registered the connection.
  ASSERT_TRUE(first->request("GET", "/health").is_ok());
  ASSERT_TRUE(second->request("GET", "/health").is_ok());

  auto third = connect();
  ASSERT_NE(third, nullptr);
  auto reply = third->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(*reply, "");
  EXPECT_EQ(registry_.counter("spofless_admin_connections_rejected_total", "").value(), 1u);
  EXPECT_TRUE(first->request("GET", "/health").is_ok()) << "admitted connections stay";
}

TEST_F(AdminServerTest, IdleConnectionsAreClosed) {
  start(AdminLimits{.idle_timeout = std::chrono::milliseconds(20)});
  auto client = connect();
  ASSERT_NE(client, nullptr);
  auto reply = client->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(*reply, "");
}

TEST_F(AdminServerTest, StopClosesTheAcceptorAndOpenConnections) {
  start();
  auto client = connect();
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->request("GET", "/health").is_ok());
  on_io([&] { server_->stop(); });
  auto reply = client->read_until_closed();
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(*reply, "");
  EXPECT_FALSE(HttpClient::connect(endpoint_, kTimeout).is_ok());
}

TEST_F(AdminServerTest, ListeningOnATakenPortFailsAsUnavailable) {
  start();
  asio::io_context other_io;
  AdminServer other(other_io, registry_, {}, "test", "1.2.3");
  Status status = other.listen(endpoint_);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.to_string();
}

}  // namespace
}  // namespace spofless::io

// berth/testing.h's ApiTestCase: per test a folder, a schema and a key prefix (FreshStorage), the
// layered configuration (kit_config.h), the captured log, and the host berthd runs
// (server/app/host.h) on a free port of 127.0.0.1, with an ApiClient for it.
#include <Poco/File.h>
#include <Poco/Logger.h>
#include <cppunit/TestAssert.h>
#include <stdlib.h>

#include <optional>
#include <stdexcept>

#include "app/host.h"
#include "app/server_config.h"
#include "berth/testing.h"
#include "fresh_storage.h"
#include "kit_config.h"
#include "log_capture.h"

namespace berth {
inline namespace v1 {
namespace testing {
namespace {

using testkit::FreshStorage;
using testkit::KitLayer;
using testkit::LogCapture;
using testkit::TestSettings;

std::string makeTestFolder() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/berth-kit-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr)
        CPPUNIT_FAIL("ApiTestCase: cannot make a folder like " + pattern);
    return buffer.data();
}

}  // namespace

struct ApiTestCase::State {
    std::string dir = makeTestFolder();
    FreshStorage storage;
    TestSettings settings;
    Poco::AutoPtr<LogCapture> log{new LogCapture};
    std::unique_ptr<server::Host> host;
    std::optional<ApiClient> client;
};

ApiTestCase::ApiTestCase(std::vector<std::string> plugins, std::string config)
    : plugins_(std::move(plugins)), config_(std::move(config)) {}

ApiTestCase::~ApiTestCase() {
    try {
        tearDown();
    } catch (...) {
    }
}

void ApiTestCase::setUp() {
    state_ = std::make_unique<State>();
    state_->log->install();
}

void ApiTestCase::tearDown() {
    if (!state_) return;
    std::vector<std::string> problems;
    if (!stop())
        problems.push_back(
            "the host did not stop: plugin code still ran after server.shutdown_timeout (see the log)");
    for (std::string& problem : state_->storage.cleanUp()) problems.push_back(std::move(problem));
    state_->log->uninstall();
    std::string log = state_->log->text();
    const char* keep = std::getenv("BERTH_KIT_KEEP");
    if (keep == nullptr || *keep == '\0') {
        try {
            Poco::File(state_->dir).remove(true);
        } catch (const Poco::Exception&) {
        }
    }
    state_.reset();
    if (problems.empty()) return;
    std::string text = "ApiTestCase::tearDown:";
    for (const std::string& problem : problems) text += "\n- " + problem;
    CPPUNIT_FAIL(text + "\nThe host's log:\n" + log);
}

namespace {

ApiTestCase::State& checked(const std::unique_ptr<ApiTestCase::State>& state, const char* what) {
    if (!state)
        throw std::logic_error(std::string("ApiTestCase::") + what +
                               " outside a test: a setUp() of your own must call ApiTestCase::setUp() first");
    return *state;
}

}  // namespace

void ApiTestCase::set(const std::string& key, const std::string& value) {
    checked(state_, "set()").settings.host.emplace_back(key, value);
}

void ApiTestCase::unset(const std::string& key) {
    checked(state_, "unset()").settings.host.emplace_back(key, std::nullopt);
}

void ApiTestCase::setPlugin(const std::string& plugin, const std::string& key, const std::string& value) {
    checked(state_, "setPlugin()").settings.plugins[plugin].emplace_back(key, value);
}

void ApiTestCase::start() {
    State& state = checked(state_, "start()");
    if (state.host) return;
    KitLayer kit{state.dir, state.storage.schema(), state.storage.keyPrefix(), plugins_};
    Poco::AutoPtr<Poco::Util::AbstractConfiguration> config =
        testkit::kitConfiguration(config_, kit, state.settings);
    std::vector<std::string> problems;
    server::ServerConfig settings = server::ServerConfig::load(*config, state.dir, problems);
    if (!problems.empty()) {
        std::string text = "ApiTestCase: the test's configuration (" + config_ + " and the test's settings):";
        for (const std::string& problem : problems) text += "\n- " + problem;
        CPPUNIT_FAIL(text);
    }
    state.storage.prepare(settings.databases, settings.cache);
    state.host = std::make_unique<server::Host>(std::move(settings), config_, Poco::Logger::get("berth"));
    try {
        state.client.emplace(state.host->start());
    } catch (const server::HostStartError& e) {
        state.host.reset();
        CPPUNIT_FAIL("ApiTestCase: the host did not start: " + std::string(e.what()) + "\nThe host's log:\n" +
                     state.log->text());
    }
}

bool ApiTestCase::stop() {
    State& state = checked(state_, "stop()");
    if (!state.host) return true;
    state.client.reset();
    bool stopped = state.host->stop();
    // Not stopped: the parts the plugin code still uses were leaked on purpose; the Host itself may go.
    state.host.reset();
    return stopped;
}

bool ApiTestCase::running() const noexcept {
    return state_ && state_->host;
}

const ApiClient& ApiTestCase::api() {
    start();
    return *state_->client;
}

int ApiTestCase::port() {
    return api().port();
}

DbResult ApiTestCase::query(const std::string& sql, const std::vector<Json>& params,
                            const std::string& database) {
    start();
    return state_->storage.query(database, sql, params);
}

const std::string& ApiTestCase::schema() const {
    return checked(state_, "schema()").storage.schema();
}

const std::string& ApiTestCase::keyPrefix() const {
    return checked(state_, "keyPrefix()").storage.keyPrefix();
}

const std::string& ApiTestCase::dir() const {
    return checked(state_, "dir()").dir;
}

std::string ApiTestCase::log() const {
    return checked(state_, "log()").log->text();
}

bool ApiTestCase::waitForLog(std::string_view text, std::chrono::milliseconds timeout) const {
    return checked(state_, "waitForLog()").log->waitFor(text, timeout);
}

}  // namespace testing
}  // namespace v1
}  // namespace berth

#pragma once
// Where an ApiTestCase's host logs: every Poco logger's channel for the length of a test, so that
// the host's and the plugins' messages (ctx.logger()) land in one buffer the test can read and
// wait on. With BERTH_KIT_LOG set, each line goes to stderr too.

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Formatter.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>

namespace berth::testkit {

class LogCapture : public Poco::Channel {
  public:
    LogCapture();

    void log(const Poco::Message& message) override;

    std::string text() const;
    bool waitFor(std::string_view text, std::chrono::milliseconds timeout) const;

    /// Makes it the channel of every logger (those made later inherit it from the root); restores
    /// the root's previous channel on every logger in uninstall().
    void install();
    void uninstall();

  private:
    static constexpr std::size_t kMaxBytes = 8 << 20;  // a runaway test keeps the last 8 MB

    mutable std::mutex mutex_;
    mutable std::condition_variable grew_;
    Poco::AutoPtr<Poco::Formatter> format_;
    std::string text_;
    bool echo_ = false;
    Poco::AutoPtr<Poco::Channel> previous_;
    bool installed_ = false;
};

}  // namespace berth::testkit

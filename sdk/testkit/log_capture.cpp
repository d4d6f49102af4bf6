#include "log_capture.h"

#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>

#include <cstdlib>
#include <iostream>

namespace berth::testkit {

LogCapture::LogCapture() : format_(new Poco::PatternFormatter("%s %p: %t")) {  // "berth.db Warning: …"
    const char* echo = std::getenv("BERTH_KIT_LOG");
    echo_ = echo != nullptr && *echo != '\0' && std::string(echo) != "0";
}

void LogCapture::log(const Poco::Message& message) {
    std::string line;
    format_->format(message, line);
    line += '\n';
    if (echo_) std::cerr << line << std::flush;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (text_.size() + line.size() > kMaxBytes) text_.erase(0, text_.size() / 2);
        text_ += line;
    }
    grew_.notify_all();
}

std::string LogCapture::text() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
}

bool LogCapture::waitFor(std::string_view text, std::chrono::milliseconds timeout) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return grew_.wait_for(lock, timeout, [&] { return text_.find(text) != std::string::npos; });
}

void LogCapture::install() {
    if (installed_) return;
    previous_ = Poco::Logger::root().getChannel();
    Poco::Logger::setChannel("", Poco::Channel::Ptr(this, true));  // shared: owned by the test's state
    installed_ = true;
}

void LogCapture::uninstall() {
    if (!installed_) return;
    Poco::Logger::setChannel("", previous_);
    previous_ = nullptr;
    installed_ = false;
}

}  // namespace berth::testkit

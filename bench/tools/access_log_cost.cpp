// access_log_cost VARIANT COUNT FOLDER — records COUNT access-log lines one way, for callgrind:
//
//   ours         AccessLog::record (server/observe/access_log.*): a binary record into a per-loop
//                shard; a writer thread formats and writes
//   poco-params  Poco::AsyncChannel -> FormattingChannel(JsonFormatter) -> FileChannel, the
//                fields as Message parameters, formatted behind the queue
//   poco-line    Poco::AsyncChannel -> FileChannel, the JSON line made on the calling thread
//
// What a request pays is the calling thread's share: run twice under
//   valgrind --tool=callgrind --separate-threads=yes
// with two counts and divide the difference (README, "Why these libraries").
#include <Poco/AsyncChannel.h>
#include <Poco/AutoPtr.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Message.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "berth/request.h"
#include "observe/access_log.h"
#include "observe/json_log_formatter.h"

namespace {

using berth::server::AccessRecord;

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

AccessRecord exampleRecord() {
    AccessRecord r;
    r.unixMs = nowMs();
    r.durationUs = 42;
    r.bytes = 27;
    r.status = 200;
    r.method = static_cast<std::uint8_t>(berth::Method::Get);
    r.plugin = "bench";
    r.route = "/json";
    r.path = "/bench/json";
    r.requestId = "991a25a35de45cd7309327093f6c9a27";
    return r;
}

void runOurs(long count, const std::string& folder) {
    berth::server::AccessLog log(folder + "/ours.log", 0, 0);
    log.start();
    berth::server::AccessLog::Shard* shard = log.createShard();
    for (long i = 0; i < count; ++i) {
        AccessRecord r = exampleRecord();
        log.record(shard, r);
    }
    log.stop();
}

Poco::AutoPtr<Poco::FileChannel> fileChannel(const std::string& path) {
    Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel(path));
    file->setProperty("flush", "false");  // as our writer: no flush per line
    return file;
}

void runPocoParams(long count, const std::string& folder) {
    Poco::AutoPtr<Poco::FormattingChannel> formatting(new Poco::FormattingChannel(
        new berth::server::JsonLogFormatter, fileChannel(folder + "/params.log")));
    Poco::AutoPtr<Poco::AsyncChannel> async(new Poco::AsyncChannel(formatting));
    async->open();
    for (long i = 0; i < count; ++i) {
        AccessRecord r = exampleRecord();
        Poco::Message message("berth.access", "", Poco::Message::PRIO_INFORMATION);
        message.set("method", std::string(berth::methodName(static_cast<berth::Method>(r.method))));
        message.set("path", std::string(r.path));
        message.set("route", r.route);
        message.set("plugin", r.plugin);
        message.set("status", std::to_string(r.status));
        message.set("bytes", std::to_string(r.bytes));
        message.set("duration_ms", std::to_string(r.durationUs / 1000.0));
        message.set("request_id", std::string(r.requestId));
        async->log(message);
    }
    async->close();  // drains the queue
}

void runPocoLine(long count, const std::string& folder) {
    Poco::AutoPtr<Poco::AsyncChannel> async(new Poco::AsyncChannel(fileChannel(folder + "/line.log")));
    async->open();
    std::string line;
    for (long i = 0; i < count; ++i) {
        AccessRecord r = exampleRecord();
        line.clear();
        // The fields need no escaping here; a real one would escape path and request id too.
        line += "{\"timestamp\":";
        line += std::to_string(r.unixMs);
        line += ",\"method\":\"";
        line += berth::methodName(static_cast<berth::Method>(r.method));
        line += "\",\"path\":\"";
        line += r.path;
        line += "\",\"route\":\"";
        line += r.route;
        line += "\",\"plugin\":\"";
        line += r.plugin;
        line += "\",\"status\":";
        line += std::to_string(r.status);
        line += ",\"bytes\":";
        line += std::to_string(r.bytes);
        line += ",\"duration_ms\":";
        line += std::to_string(r.durationUs / 1000.0);
        line += ",\"request_id\":\"";
        line += r.requestId;
        line += "\"}";
        async->log(Poco::Message("berth.access", line, Poco::Message::PRIO_INFORMATION));
    }
    async->close();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: access_log_cost ours|poco-params|poco-line COUNT FOLDER\n");
        return 64;
    }
    const std::string variant = argv[1];
    const long count = std::atol(argv[2]);
    const std::string folder = argv[3];
    if (variant == "ours")
        runOurs(count, folder);
    else if (variant == "poco-params")
        runPocoParams(count, folder);
    else if (variant == "poco-line")
        runPocoLine(count, folder);
    else {
        std::fprintf(stderr, "access_log_cost: unknown variant '%s'\n", argv[1]);
        return 64;
    }
    return 0;
}

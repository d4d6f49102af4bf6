#pragma once
// fanout.* of conf/berth.properties (read in app/server_config.cpp, documented there and in
// conf/berth.properties): the executor behind berth::gather.

namespace berth::server {

struct FanOutSettings {
    int threads = 16;      // fanout.threads
    int maxQueued = 1024;  // fanout.max_queued
};

}  // namespace berth::server

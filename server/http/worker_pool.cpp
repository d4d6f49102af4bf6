#include "worker_pool.h"

namespace berth::server {

WorkerPool::WorkerPool(int threads, std::size_t maxQueued) : maxQueued_(maxQueued) {
    threads_.reserve(static_cast<std::size_t>(threads));
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
    stop();
}

bool WorkerPool::trySubmit(Task task) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ || queue_.size() >= maxQueued_) return false;
        queue_.push_back(task);
    }
    wake_.notify_one();
    return true;
}

void WorkerPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& thread : threads_)
        if (thread.joinable()) thread.join();
    threads_.clear();
}

std::size_t WorkerPool::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void WorkerPool::work() {
    while (true) {
        Task task;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and nothing left to run
            task = queue_.front();
            queue_.pop_front();
        }
        task.run(task.argument);
    }
}

}  // namespace berth::server

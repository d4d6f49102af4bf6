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

bool WorkerPool::trySubmitAll(const std::vector<Task>& tasks) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ || queue_.size() + tasks.size() > maxQueued_) return false;
        queue_.insert(queue_.end(), tasks.begin(), tasks.end());
    }
    wake_.notify_all();
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

bool WorkerPool::stopBy(std::chrono::steady_clock::time_point deadline) {
    {
        std::unique_lock<std::mutex> lock(mutex_);
        stopping_ = true;
        wake_.notify_all();
        bool done = idle_.wait_until(lock, deadline, [this] { return queue_.empty() && active_ == 0; });
        if (!done) {
            for (std::thread& thread : threads_) thread.detach();
            threads_.clear();
            return false;
        }
    }
    stop();
    return true;
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
            ++active_;
        }
        task.run(task.argument);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            --active_;
        }
        idle_.notify_all();
    }
}

}  // namespace berth::server

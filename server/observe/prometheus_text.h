#pragma once
// Writes the Prometheus text exposition format 0.0.4 into a string: each family's HELP and TYPE
// once, then its samples, with label values escaped (route patterns hold braces, slashes and
// quotes can reach plugin names or endpoints through configuration). Poco 1.11 has no Prometheus
// module (it came in 1.12), so the few rules of the format live here, once.
//
//     PrometheusText text(out);
//     text.family("berth_db_waiting", "gauge", "Callers waiting for a free connection.");
//     text.sample("berth_db_waiting").label("database", "main").value(3);
//     // berth_db_waiting{database="main"} 3

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::server {

class PrometheusText {
  public:
    explicit PrometheusText(std::string& out) noexcept : out_(out) {}

    /// "# HELP name help" and "# TYPE name type"; `type` is counter, gauge or histogram. A
    /// counter's name ends in _total; a histogram's samples are name_bucket, name_sum, name_count.
    void family(std::string_view name, std::string_view type, std::string_view help);

    /// Starts a sample line; label() calls follow, then value() ends the line.
    PrometheusText& sample(std::string_view name);
    PrometheusText& label(std::string_view name, std::string_view value);
    void value(std::uint64_t number);
    void value(std::int64_t number);
    void value(int number) { value(static_cast<std::int64_t>(number)); }
    /// Shortest text that reads back as the same double ("0.0005", "12.5", "1e+21").
    void value(double number);

    /// The text written so far, for a renderer that appends whole families itself.
    std::string& out() noexcept { return out_; }

    /// A label value with \ " and newline escaped, as the format wants.
    static void appendLabelValue(std::string& out, std::string_view value);
    /// `number` as value(double) writes it (also for histogram `le` bounds).
    static void appendDouble(std::string& out, double number);

  private:
    void endLabels();

    std::string& out_;
    bool labelsOpen_ = false;
};

}  // namespace berth::server

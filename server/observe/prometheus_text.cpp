#include "prometheus_text.h"

#include <charconv>
#include <cmath>

namespace berth::server {

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {  // HELP escapes backslash and newline only
        if (c == '\\')
            out_ += "\\\\";
        else if (c == '\n')
            out_ += "\\n";
        else
            out_ += c;
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
}

PrometheusText& PrometheusText::sample(std::string_view name) {
    out_ += name;
    labelsOpen_ = false;
    return *this;
}

PrometheusText& PrometheusText::label(std::string_view name, std::string_view value) {
    out_ += labelsOpen_ ? ',' : '{';
    labelsOpen_ = true;
    out_ += name;
    out_ += "=\"";
    appendLabelValue(out_, value);
    out_ += '"';
    return *this;
}

void PrometheusText::endLabels() {
    if (labelsOpen_) out_ += '}';
    labelsOpen_ = false;
    out_ += ' ';
}

void PrometheusText::value(std::uint64_t number) {
    endLabels();
    out_ += std::to_string(number);
    out_ += '\n';
}

void PrometheusText::value(std::int64_t number) {
    endLabels();
    out_ += std::to_string(number);
    out_ += '\n';
}

void PrometheusText::value(double number) {
    endLabels();
    appendDouble(out_, number);
    out_ += '\n';
}

void PrometheusText::appendLabelValue(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

void PrometheusText::appendDouble(std::string& out, double number) {
    if (std::isnan(number)) {
        out += "NaN";
        return;
    }
    if (std::isinf(number)) {
        out += number > 0 ? "+Inf" : "-Inf";
        return;
    }
    char buffer[32];
    // general: fixed notation for ordinary magnitudes ("0.0005", as Go's client writes `le`).
    std::to_chars_result end =
        std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::general);
    out.append(buffer, end.ptr);
}

}  // namespace berth::server

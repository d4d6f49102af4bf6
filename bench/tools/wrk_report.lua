-- wrk_report.lua — wrk -s script for bench/run: after the run, prints wrk's own summary as one
-- line "BENCH_JSON {...}" (latencies in microseconds). It defines only done(), so wrk keeps its
-- fast path (no Lua call per request).
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
        '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
        '"latency_us":{"p50":%d,"p75":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f,"stdev":%.1f}}\n',
        summary.requests, summary.duration, summary.bytes,
        e.connect, e.read, e.write, e.status, e.timeout,
        latency:percentile(50), latency:percentile(75), latency:percentile(90),
        latency:percentile(99), latency.max, latency.mean, latency.stdev))
end

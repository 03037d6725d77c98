-- wrk script: every request is one OIP infer of a [1, 16] row for the
-- model named by the MODEL environment variable (wrk counts non-2xx answers).
local model = os.getenv("MODEL") or "mlp"
wrk.method = "POST"
wrk.path = "/v2/models/" .. model .. "/infer"
wrk.headers["Content-Type"] = "application/json"
local row = {}
for i = 1, 16 do row[i] = string.format("%.2f", (i - 8) / 8) end
wrk.body = '{"inputs":[{"name":"features","shape":[1,16],"datatype":"FP32","data":[' .. table.concat(row, ",") .. ']}]}'

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format("requests %d throughput %.0f p50_us %d p99_us %d non_2xx %d errors %d\n",
    summary.requests, summary.requests / secs, latency:percentile(50), latency:percentile(99),
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

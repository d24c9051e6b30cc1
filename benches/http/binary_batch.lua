-- wrk script: POST one binary batch of 32-byte transfer records, again and again.
--
-- Valid batches cannot be replayed (each sender's nonce advances once), so every record here
-- carries nonce 1000000 against accounts whose nonce is 0: each transfer is decoded, checked
-- and rejected as bad_nonce after reading its sender's account (a cache miss, as a real
-- transfer would), but nothing is debited, credited or hashed into the ledger. This measures
-- the request path (HTTP, body, decode, validation pass), not committed throughput.
--
-- Usage: wrk -t1 -c64 -d10s -s binary_batch.lua http://127.0.0.1:PORT/api/v11/transactions
-- Environment: BATCH (records per request, default 1024), ACCOUNTS (default 1000000).

local batch = tonumber(os.getenv("BATCH") or "1024")
local accounts = tonumber(os.getenv("ACCOUNTS") or "1000000")

-- Little-endian u64 of a non-negative integer below 2^53 (LuaJIT has no string.pack).
local function le64(n)
  local bytes = {}
  for i = 1, 8 do
    bytes[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(bytes)
end

local records = {}
math.randomseed(42)
for i = 1, batch do
  local from = math.random(0, accounts - 1)
  local to = (from + 1) % accounts
  records[i] = le64(from) .. le64(to) .. le64(1) .. le64(1000000)
end

wrk.method = "POST"
wrk.body = table.concat(records)
wrk.headers["Content-Type"] = "application/octet-stream"

function done(summary, latency, requests)
  io.write(string.format("transfers checked per second: %.0f\n",
    summary.requests / (summary.duration / 1e6) * batch))
end

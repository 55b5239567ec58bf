-- One wrk script for every HTTP workload of the suite. Environment:
--   BENCH_TARGET = memkv | webdis     BENCH_OP = get | set | push | pop
--   BENCH_KEYS   = number of keys the workload cycles through (pre-filled by the suite)
-- Each thread walks the keyspace round-robin from its own offset, so every request is distinct
-- and lists shrink or grow evenly (POP never meets an empty list while the suite's fill lasts).
local target = os.getenv("BENCH_TARGET") or "memkv"
local op = os.getenv("BENCH_OP") or "get"
local keys = tonumber(os.getenv("BENCH_KEYS") or "100000")
local value = "v0123456789abcdef0123456789abcde" -- 32 bytes

local counter = 0
local threads = 1
local id = 0
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  id = wrk.thread:get("id") or 0
  threads = 2
  counter = id * 7919
end

local json = { ["Content-Type"] = "application/json" }
-- BENCH_PREFER (memkv only): sent as a Prefer header, which the fast path and raw front leave to
-- Fastify: the way to measure memkv with every request through Fastify (bench/tls.mjs).
local prefer = os.getenv("BENCH_PREFER")
local plain = nil
if prefer ~= nil and prefer ~= "" then
  json["Prefer"] = prefer
  plain = { ["Prefer"] = prefer }
end

function request()
  counter = counter + 1
  local n = counter % keys
  if target == "memkv" then
    if op == "get" then
      return wrk.format("GET", "/api/v1/s" .. n, plain)
    elseif op == "set" then
      return wrk.format("POST", "/api/v1/set", json, '{"key":"s' .. n .. '","value":"' .. value .. '"}')
    elseif op == "push" then
      return wrk.format("PATCH", "/api/v1/p" .. n .. "/push", json, '{"value":"' .. value .. '"}')
    else
      return wrk.format("PATCH", "/api/v1/l" .. n .. "/pop")
    end
  else
    if op == "get" then
      return wrk.format("GET", "/GET/s" .. n)
    elseif op == "set" then
      return wrk.format("PUT", "/SET/s" .. n, nil, value)
    elseif op == "push" then
      return wrk.format("PUT", "/RPUSH/p" .. n, nil, value)
    else
      return wrk.format("GET", "/RPOP/l" .. n)
    end
  end
end

-- One attempt at a priority token bucket, atomically, on Redis's own clock.
-- The same steps as MemoryBucketStore.attempt (maestro/llm/ratelimit/memory.py).
--
-- KEYS: 1 bucket hash: tokens, ts, counters ("calls:1"), seq, a 60-slot ring of grants
--         per minute ("m:<slot>" count, "t:<slot>" minute), waiter leases ("l:<ticket>")
--       2 wait queue zset (ticket -> priority * 1e12 + seq)
--       3 set of every quota key (for monitoring without KEYS)
-- ARGV: 1 quota key  2 capacity  3 tokens per second  4 reserve  5 cost  6 priority
--       7 P3 skip threshold (tokens)  8 ticket  9 first attempt (1/0)  10 lease seconds
--       11 idle expiry (ms)  12 "now" override ('' = Redis TIME; tests and client-clock mode)
-- Returns {decision, tokens, now, wait seconds} as strings.
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local cost = tonumber(ARGV[5])
local priority = tonumber(ARGV[6])
local bucket, queue = KEYS[1], KEYS[2]

local now
if ARGV[12] ~= '' then
  now = tonumber(ARGV[12])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local minute = math.floor(now / 60)
local slot = minute % 60

local state = redis.call('HMGET', bucket, 'tokens', 'ts', 't:' .. slot, 'm:' .. slot)
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil then
  tokens, ts = capacity, now
  redis.call('SADD', KEYS[3], ARGV[1])
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end

local queued = 0
if priority <= 1 or redis.call('EXISTS', queue) == 1 then
  -- A waiter whose replica stopped asking (crashed, cut off) loses its place.
  while true do
    local head = redis.call('ZRANGE', queue, 0, 0)
    if #head == 0 then break end
    local expiry = tonumber(redis.call('HGET', bucket, 'l:' .. head[1]))
    if expiry and expiry > now then break end
    redis.call('ZREM', queue, head[1])
    redis.call('HDEL', bucket, 'l:' .. head[1])
  end
  queued = redis.call('ZCARD', queue)
end

local function fmt(x) return string.format('%.17g', x) end

local function finish(decision, wait, counter)
  redis.call('HSET', bucket, 'tokens', fmt(tokens), 'ts', fmt(ts))
  if counter then redis.call('HINCRBY', bucket, counter .. ':' .. priority, 1) end
  redis.call('PEXPIRE', bucket, ARGV[11])
  return {decision, fmt(tokens), fmt(now), wait}
end

local function grant()
  tokens = tokens - cost
  local count = 1
  if tonumber(state[3]) == minute then count = tonumber(state[4]) + 1 end
  redis.call('HSET', bucket, 't:' .. slot, minute, 'm:' .. slot, count)
  return finish('grant', '0', 'calls')
end

local floor = tonumber(ARGV[4])
if priority == 0 then floor = 0 end
local enough = tokens + 1e-9 >= floor + cost

if priority <= 1 then
  local ticket = ARGV[8]
  local counter = nil
  if redis.call('ZSCORE', queue, ticket) == false then
    if queued == 0 and enough then return grant() end
    local seq = redis.call('HINCRBY', bucket, 'seq', 1)
    redis.call('ZADD', queue, string.format('%d', priority * 1000000000000 + seq), ticket)
    if ARGV[9] == '1' then counter = 'waits' end
  end
  local rank = redis.call('ZRANK', queue, ticket)
  if rank == 0 and enough then
    redis.call('ZREM', queue, ticket)
    redis.call('HDEL', bucket, 'l:' .. ticket)
    return grant()
  end
  redis.call('HSET', bucket, 'l:' .. ticket, fmt(now + tonumber(ARGV[10])))
  redis.call('PEXPIRE', queue, ARGV[11])
  local need = floor + cost * (rank + 1) - tokens
  return finish('wait', fmt(math.max(0, need / rate)), counter)
end

if priority == 2 then
  if queued == 0 and enough then return grant() end
  return finish('defer', '0', 'defers')
end
if tokens + 1e-9 >= tonumber(ARGV[7]) and queued == 0 and enough then return grant() end
return finish('skip', '0', 'skips')

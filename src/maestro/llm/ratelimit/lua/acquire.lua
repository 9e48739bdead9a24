-- One attempt at a priority token bucket, atomically, on Redis's own clock.
-- The same steps as MemoryBucketStore.attempt (maestro/llm/ratelimit/memory.py).
--
-- KEYS: 1 bucket hash (tokens, ts)   2 wait queue zset (ticket -> priority*1e12 + seq)
--       3 leases hash (ticket -> expiry)   4 counters hash   5 grants per minute hash
--       6 set of every quota key (for monitoring without KEYS)
-- ARGV: 1 quota key  2 capacity  3 tokens per second  4 reserve  5 cost  6 priority
--       7 P3 skip threshold (tokens)  8 ticket  9 first attempt (1/0)  10 lease seconds
--       11 idle expiry (ms)  12 "now" override ('' = Redis TIME; tests and client-clock mode)
-- Returns {decision, tokens, now, wait seconds} as strings.
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local priority = tonumber(ARGV[6])
local skip = tonumber(ARGV[7])
local ticket = ARGV[8]
local first = ARGV[9] == '1'
local lease = tonumber(ARGV[10])
local idle_ms = ARGV[11]
local eps = 1e-9

local now
if ARGV[12] ~= '' then
  now = tonumber(ARGV[12])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local function fmt(x) return string.format('%.17g', x) end

local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil then
  tokens, ts = capacity, now
  redis.call('SADD', KEYS[6], ARGV[1])
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end

-- A waiter whose replica stopped asking (crashed, cut off) loses its place.
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #head == 0 then break end
  local expiry = tonumber(redis.call('HGET', KEYS[3], head[1]))
  if expiry and expiry > now then break end
  redis.call('ZREM', KEYS[2], head[1])
  redis.call('HDEL', KEYS[3], head[1])
end

local function count(kind)
  redis.call('HINCRBY', KEYS[4], kind .. ':' .. priority, 1)
end

local function save()
  redis.call('HSET', KEYS[1], 'tokens', fmt(tokens), 'ts', fmt(ts))
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], idle_ms) end
end

local function grant()
  tokens = tokens - cost
  count('calls')
  local minute = math.floor(now / 60)
  redis.call('HINCRBY', KEYS[5], string.format('%d', minute), 1)
  if redis.call('HLEN', KEYS[5]) > 61 then
    for _, m in ipairs(redis.call('HKEYS', KEYS[5])) do
      if tonumber(m) <= minute - 60 then redis.call('HDEL', KEYS[5], m) end
    end
  end
  save()
  return {'grant', fmt(tokens), fmt(now), '0'}
end

local floor = reserve
if priority == 0 then floor = 0 end
local enough = tokens + eps >= floor + cost
local queued = redis.call('ZCARD', KEYS[2])

if priority <= 1 then
  if redis.call('ZSCORE', KEYS[2], ticket) == false then
    if queued == 0 and enough then return grant() end
    local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
    redis.call('ZADD', KEYS[2], string.format('%d', priority * 1000000000000 + seq), ticket)
    if first then count('waits') end
  end
  local rank = redis.call('ZRANK', KEYS[2], ticket)
  if rank == 0 and enough then
    redis.call('ZREM', KEYS[2], ticket)
    redis.call('HDEL', KEYS[3], ticket)
    return grant()
  end
  redis.call('HSET', KEYS[3], ticket, fmt(now + lease))
  save()
  local need = floor + cost * (rank + 1) - tokens
  return {'wait', fmt(tokens), fmt(now), fmt(math.max(0, need / rate))}
end

local decision = 'skip'
if priority == 2 then
  if queued == 0 and enough then return grant() end
  decision = 'defer'
  count('defers')
else
  if tokens + eps >= skip and queued == 0 and enough then return grant() end
  count('skips')
end
save()
return {decision, fmt(tokens), fmt(now), '0'}

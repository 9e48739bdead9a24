-- One attempt at a priority token bucket, atomically, on Redis's own clock.
-- The same steps as MemoryBucketStore.attempt (maestro/llm/ratelimit/memory.py).
--
-- KEYS: 1 bucket hash: tokens, ts, counters ("calls:1"), seq, waiter leases ("l:<ticket>"),
--         grants per minute: "minute" and "grants" (the minute of the latest grant and
--         its count), "hour" (earlier minutes of the last hour, "minute=count ...")
--       2 wait queue zset (ticket -> priority * 1e12 + seq)
--       3 set of every quota key (for monitoring without KEYS)
-- ARGV: 1 the policy, space-separated: capacity, tokens per second, reserve, P3 skip
--         threshold (tokens), idle expiry (ms), lease seconds, quota key
--       2 the call, space-separated: priority, cost, first attempt (1/0)
--       3 ticket ('' for P2/P3)  4 "now" override ('' = Redis TIME; tests, client-clock mode)
-- Returns {decision, tokens, now, wait seconds} as strings.
--
-- Cost notes (the script runs on every acquisition):
-- * The fast path (nobody queued, tokens there) is TIME, HMGET, EXISTS and one HSET; the
--   idle expiry is refreshed and the hour's history rewritten only on the first grant of
--   each minute. No ZSET command runs while the queue is empty.
-- * The bucket hash stays small: a per-slot ring of the hour would hold 120 fields, and a
--   listpack-encoded hash that size makes every HMGET/HSET a long linear scan.
-- * The policy and the call come as two arguments, not eleven: the client encodes every
--   argument on every call, and ARGV 1 is the same bytes for every call on a key.
local _, parsed, capacity, rate, reserve, skip =
  string.find(ARGV[1], '^(%S+) (%S+) (%S+) (%S+) ')
capacity, rate = tonumber(capacity), tonumber(rate)
local priority, cost, first = string.match(ARGV[2], '^(%d+) (%d+) ([01])$')
priority, cost = tonumber(priority), tonumber(cost)
local bucket, queue = KEYS[1], KEYS[2]

-- The rest of the policy is needed only off the fast path.
local function policy_tail()
  return string.match(ARGV[1], '^(%S+) (%S+) (.+)$', parsed + 1)
end

local now
if ARGV[4] ~= '' then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local minute = math.floor(now / 60)
local calls = 'calls:' .. priority

local state = redis.call('HMGET', bucket, 'tokens', 'ts', 'minute', 'grants', calls)
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil then
  tokens, ts = capacity, now
  local _, _, name = policy_tail()
  redis.call('SADD', KEYS[3], name)
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end

-- An empty queue does not exist, so one EXISTS answers for the common case.
local queued = 0
if redis.call('EXISTS', queue) == 1 then
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
  redis.call('PEXPIRE', bucket, (policy_tail()))
  return {decision, fmt(tokens), fmt(now), wait}
end

-- The minutes of the hour before ``minute``: the kept entries of ``hour`` plus the
-- minute that just ended (``last`` with ``count`` grants), oldest first.
local function file(hour, last, count)
  local kept = {}
  for m, n in string.gmatch(hour or '', '(%d+)=(%d+)') do
    if tonumber(m) > minute - 60 then kept[#kept + 1] = m .. '=' .. n end
  end
  if last and last > minute - 60 then kept[#kept + 1] = string.format('%d=%d', last, count) end
  return table.concat(kept, ' ')
end

local function grant()
  tokens = tokens - cost
  local left, at = fmt(tokens), fmt(now)
  local stamp = at
  if ts ~= now then stamp = fmt(ts) end
  -- The grant counter was read with the state above, so one HSET writes everything.
  local total = (tonumber(state[5]) or 0) + 1
  local last = tonumber(state[3])
  if last == minute then
    redis.call('HSET', bucket, 'tokens', left, 'ts', stamp, calls, total,
      'grants', tonumber(state[4]) + 1)
  else
    local hour = file(redis.call('HGET', bucket, 'hour'), last, tonumber(state[4]))
    redis.call('HSET', bucket, 'tokens', left, 'ts', stamp, calls, total,
      'minute', minute, 'grants', 1, 'hour', hour)
    -- Refreshing the idle expiry once a minute is enough: it carries a minute of slack.
    redis.call('PEXPIRE', bucket, (policy_tail()))
  end
  return {'grant', left, at, '0'}
end

local floor = tonumber(reserve)
if priority == 0 then floor = 0 end
local enough = tokens + 1e-9 >= floor + cost

if priority <= 1 then
  local ticket = ARGV[3]
  local counter = nil
  if queued == 0 or redis.call('ZSCORE', queue, ticket) == false then
    if queued == 0 and enough then return grant() end
    local seq = redis.call('HINCRBY', bucket, 'seq', 1)
    redis.call('ZADD', queue, string.format('%d', priority * 1000000000000 + seq), ticket)
    if first == '1' then counter = 'waits' end
  end
  local rank = redis.call('ZRANK', queue, ticket)
  if rank == 0 and enough then
    redis.call('ZREM', queue, ticket)
    redis.call('HDEL', bucket, 'l:' .. ticket)
    return grant()
  end
  local idle, lease = policy_tail()
  redis.call('HSET', bucket, 'l:' .. ticket, fmt(now + tonumber(lease)))
  redis.call('PEXPIRE', queue, idle)
  local need = floor + cost * (rank + 1) - tokens
  return finish('wait', fmt(math.max(0, need / rate)), counter)
end

if priority == 2 then
  if queued == 0 and enough then return grant() end
  return finish('defer', '0', 'defers')
end
if tokens + 1e-9 >= tonumber(skip) and queued == 0 and enough then return grant() end
return finish('skip', '0', 'skips')

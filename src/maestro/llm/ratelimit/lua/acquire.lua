-- One attempt at a priority token bucket, atomically, on Redis's own clock.
-- The same steps as MemoryBucketStore.attempt (maestro/llm/ratelimit/memory.py).
--
-- KEYS: 1 bucket hash: tokens, ts, counters ("calls:1"), seq, waiter leases ("l:<ticket>"),
--         grants per minute: "minute" and "grants" (the minute of the latest grant and
--         its count), "hour" (earlier minutes of the last hour, "minute=count ..."),
--         "q": '0' when the wait queue is known to be empty, '1' when it may hold waiters
--       2 wait queue zset (ticket -> priority * 1e12 + seq)
--       3 set of every quota key (for monitoring without KEYS)
-- ARGV: 1 the policy and the call, space-separated: capacity, tokens per second, need (the
--         tokens a call takes with nobody waiting: its floor plus its cost, and for P3 at
--         least the skip threshold), cost, the priority's grant counter ("calls:2"), first
--         attempt (1/0), idle expiry (ms), lease seconds, quota key
--       2 ticket (P0/P1; absent or '' for P2/P3)
--       3 "now" override (absent or '' = Redis TIME; tests, client-clock mode)
-- Returns a grant as one integer, the tokens left in millionths (a bare number is the
-- cheapest reply to build and to parse); anything else as {decision, tokens, now, wait},
-- strings.
--
-- Cost notes (the script runs on every acquisition; each redis.call, string.format and
-- pattern match is a measurable share of it):
-- * The fast path (queue known empty, tokens there, same minute as the last grant) is
--   one pattern match, TIME, one HMGET and one HSET, with numbers handed to HSET as Lua
--   numbers (Redis formats them exactly, "%.17g", in C).
-- * "q" spares the fast path an EXISTS on the queue. It is set wherever a waiter joins
--   and cleared only by an attempt that saw the queue empty, so it may say "maybe" for
--   an empty queue (costing one slow attempt) but never "empty" for a queue with waiters.
-- * The idle expiry is refreshed and the hour's history rewritten only on the first
--   grant of each minute (the expiry carries a minute of slack). No ZSET command runs
--   while the queue is empty.
-- * The bucket hash stays small: a listpack-encoded hash is scanned linearly.
local bucket, queue = KEYS[1], KEYS[2]
local _, parsed, capacity, rate, need, cost, calls, first =
  string.find(ARGV[1], '^(%S+) (%S+) (%S+) (%d+) (calls:%d) ([01])')
-- Arithmetic turns numeric strings into numbers without a call to tonumber (which costs
-- a global lookup and a call each); comparisons do not, so those get "+ 0".
capacity, need = capacity + 0, need + 0

local now = ARGV[3]
if now and now ~= '' then
  now = now + 0
else
  local t = redis.call('TIME')
  now = t[1] + t[2] / 1000000
end
local minute = math.floor(now / 60)

local state = redis.call('HMGET', bucket, 'q', 'minute', 'tokens', 'ts', 'grants', calls)
local tokens, ts = state[3], state[4]
if tokens then
  local elapsed = now - ts
  tokens = tokens + 0
  if elapsed > 0 then
    tokens = tokens + elapsed * rate
    if tokens > capacity then tokens = capacity end
    ts = now
  end
end

-- The fast path: nobody queued, the tokens there, a grant in this minute already.
-- (q is written together with tokens and ts, so q == '0' means they exist.)
if state[1] == '0' and tokens and tokens + 1e-9 >= need
  and state[2] and state[2] + 0 == minute then
  tokens = tokens - cost
  redis.call('HSET', bucket, 'tokens', tokens, 'ts', ts, calls, (state[6] or 0) + 1,
    'grants', state[5] + 1)
  return tokens * 1000000 + 0.5
end

-- Everything else. The rest of the policy is needed only here.
local idle, lease, name = string.match(ARGV[1], '^ (%S+) (%S+) (%S+)', parsed + 1)
local priority = tonumber(string.sub(calls, 7))
cost = tonumber(cost)
if not tokens then
  tokens, ts = capacity, now
  redis.call('SADD', KEYS[3], name)
end

local queued = 0
if state[1] ~= '0' and redis.call('EXISTS', queue) == 1 then
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
  redis.call('HSET', bucket, 'tokens', tokens, 'ts', ts, 'q', queued > 0 and 1 or 0)
  if counter then redis.call('HINCRBY', bucket, counter .. ':' .. priority, 1) end
  redis.call('PEXPIRE', bucket, idle)
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
  -- The grant counter was read with the state above, so one HSET writes everything.
  local total = (tonumber(state[6]) or 0) + 1
  local q = queued > 0 and 1 or 0
  local last = tonumber(state[2])
  if last == minute then
    redis.call('HSET', bucket, 'tokens', tokens, 'ts', ts, calls, total,
      'grants', state[5] + 1, 'q', q)
  else
    local hour = file(redis.call('HGET', bucket, 'hour'), last, tonumber(state[5]))
    redis.call('HSET', bucket, 'tokens', tokens, 'ts', ts, calls, total,
      'minute', minute, 'grants', 1, 'hour', hour, 'q', q)
    -- Refreshing the idle expiry once a minute is enough: it carries a minute of slack.
    redis.call('PEXPIRE', bucket, idle)
  end
  return tokens * 1000000 + 0.5
end

local enough = tokens + 1e-9 >= need

if priority <= 1 then
  local ticket = ARGV[2]
  local counter = nil
  if queued == 0 or redis.call('ZSCORE', queue, ticket) == false then
    if queued == 0 and enough then return grant() end
    local seq = redis.call('HINCRBY', bucket, 'seq', 1)
    redis.call('ZADD', queue, string.format('%d', priority * 1000000000000 + seq), ticket)
    queued = queued + 1
    if first == '1' then counter = 'waits' end
  end
  local rank = redis.call('ZRANK', queue, ticket)
  if rank == 0 and enough then
    redis.call('ZREM', queue, ticket)
    redis.call('HDEL', bucket, 'l:' .. ticket)
    queued = queued - 1
    return grant()
  end
  redis.call('HSET', bucket, 'l:' .. ticket, fmt(now + tonumber(lease)))
  redis.call('PEXPIRE', queue, idle)
  -- ``need`` is floor + cost; this waiter also needs the tokens of everyone ahead of it.
  local wait = (need + cost * rank - tokens) / rate
  return finish('wait', fmt(math.max(0, wait)), counter)
end

if priority == 2 then
  if queued == 0 and enough then return grant() end
  return finish('defer', '0', 'defers')
end
if queued == 0 and enough then return grant() end
return finish('skip', '0', 'skips')

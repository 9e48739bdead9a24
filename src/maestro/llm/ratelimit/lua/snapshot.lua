-- Read one bucket without changing it: refilled tokens, queue length, grants in
-- the last hour, counters.
-- KEYS: 1 bucket hash  2 wait queue zset  3 counters hash  4 grants per minute hash
-- ARGV: 1 capacity  2 tokens per second  3 "now" override ('' = Redis TIME)
-- Returns {tokens, now, queued, calls in the last hour, counter name, value, ...}.
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now
if ARGV[3] ~= '' then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if tokens == nil then
  tokens = capacity
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
end
local minute = math.floor(now / 60)
local calls = 0
local minutes = redis.call('HGETALL', KEYS[4])
for i = 1, #minutes, 2 do
  if tonumber(minutes[i]) > minute - 60 then calls = calls + tonumber(minutes[i + 1]) end
end
local out = {string.format('%.17g', tokens), string.format('%.17g', now),
             redis.call('ZCARD', KEYS[2]), calls}
for _, v in ipairs(redis.call('HGETALL', KEYS[3])) do table.insert(out, v) end
return out

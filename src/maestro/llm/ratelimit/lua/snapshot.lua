-- Read one bucket without changing it: refilled tokens, queue length, grants in
-- the last hour, counters.
-- KEYS: 1 bucket hash  2 wait queue zset
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
local minute = math.floor(now / 60)
local fields = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do fields[all[i]] = all[i + 1] end
local tokens, ts = tonumber(fields['tokens']), tonumber(fields['ts'])
if tokens == nil then
  tokens = capacity
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
end
-- Grants in the last hour: the latest minute's count plus the earlier minutes filed in
-- "hour" (see acquire.lua).
local calls = 0
local last = tonumber(fields['minute'])
if last and last > minute - 60 then calls = tonumber(fields['grants']) end
for m, n in string.gmatch(fields['hour'] or '', '(%d+)=(%d+)') do
  if tonumber(m) > minute - 60 then calls = calls + tonumber(n) end
end
local out = {string.format('%.17g', tokens), string.format('%.17g', now),
             redis.call('ZCARD', KEYS[2]), calls}
for name, value in pairs(fields) do
  -- "m:<slot>"/"t:<slot>" are the per-slot ring of earlier versions, not counters.
  if string.find(name, '^%a+:%d$') and not string.find(name, '^[mt]:') then
    table.insert(out, name)
    table.insert(out, value)
  end
end
return out

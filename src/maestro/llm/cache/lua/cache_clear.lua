-- Forget every entry of a workspace (bounded by max_entries). Pointers left behind
-- point to deleted entries, so they miss, and expire with their TTL.
-- KEYS: lru zset   ARGV: base
local base = ARGV[1]
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, member in ipairs(members) do
  local sep = string.find(member, '|', 1, true)
  local mns, mid = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  redis.call('DEL', base .. 'e:' .. mid)
  if redis.call('HDEL', base .. 'v:' .. mns, mid) == 1 then
    redis.call('RPUSH', base .. 'log:' .. mns, '-' .. mid)
  end
end
redis.call('DEL', KEYS[1])
return #members

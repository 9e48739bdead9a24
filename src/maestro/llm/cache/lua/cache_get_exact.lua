-- The live entry behind the L1 pointer, else behind the L2 pointer; marks it used.
-- KEYS: l1 pointer, l2 pointer, lru zset
-- ARGV: base, now_ms
-- Returns {level, payload} or false.
for i = 1, 2 do
  local member = redis.call('GET', KEYS[i])
  if member then
    local sep = string.find(member, '|', 1, true)
    local payload = redis.call('GET', ARGV[1] .. 'e:' .. string.sub(member, sep + 1))
    if payload then
      redis.call('ZADD', KEYS[3], 'XX', ARGV[2], member)
      return {i, payload}
    end
  end
end
return false

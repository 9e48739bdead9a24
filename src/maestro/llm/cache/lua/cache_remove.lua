-- Forget one entry and its vector (logged so every mirror drops it too).
-- KEYS: lru zset, entry, vectors hash, vector log   ARGV: member, id
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
if redis.call('HDEL', KEYS[3], ARGV[2]) == 1 then
  redis.call('RPUSH', KEYS[4], '-' .. ARGV[2])
end
return 1

-- Mark an entry used, if it is still in the LRU set.
-- KEYS: lru zset   ARGV: now_ms, member
return redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])

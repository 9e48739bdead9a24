-- Entries held for a workspace.   KEYS: lru zset
return redis.call('ZCARD', KEYS[1])

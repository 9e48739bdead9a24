-- Give up a place in the wait queue; count a timeout if that is why.
-- KEYS: 1 bucket hash  2 wait queue zset
-- ARGV: 1 ticket  2 priority  3 timed out (1/0)
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[1], 'l:' .. ARGV[1])
if ARGV[3] == '1' then
  redis.call('HINCRBY', KEYS[1], 'timeouts:' .. ARGV[2], 1)
end
return 1

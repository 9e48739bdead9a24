-- Give up a place in the wait queue; count a timeout if that is why.
-- KEYS: 1 wait queue zset  2 leases hash  3 counters hash
-- ARGV: 1 ticket  2 priority  3 timed out (1/0)
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[3] == '1' then
  redis.call('HINCRBY', KEYS[3], 'timeouts:' .. ARGV[2], 1)
end
return 1

-- Hand a replica's local usage back to the shared bucket when Redis answers again.
-- While Redis was unreachable the replica granted calls from its local share; taking the
-- share's shortfall from the shared bucket keeps the replicas together within the quota
-- after recovery (see RateLimiter._hand_back).
-- KEYS: 1 bucket hash  2 set of every quota key
-- ARGV: 1 capacity  2 tokens per second  3 tokens to take  4 idle expiry (ms)  5 quota key
--       6 "now" override ('' = Redis TIME)  7.. counter name, count, counter name, count ...
-- Returns the tokens left, as a string.
local capacity, rate, debit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local now
if ARGV[6] ~= '' then
  now = tonumber(ARGV[6])
else
  local t = redis.call('TIME')
  now = t[1] + t[2] / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens, ts = tonumber(state[1]), tonumber(state[2])
if not tokens then
  tokens, ts = capacity, now
  redis.call('SADD', KEYS[2], ARGV[5])
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate)
  ts = now
end
-- Never below empty: a debt would also hold back P0 until it refilled.
tokens = math.max(math.min(tokens, 0), tokens - debit)
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', ts)
for i = 7, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return string.format('%.17g', tokens)

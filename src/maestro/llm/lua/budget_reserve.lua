-- Reserve ARGV[1] micro-USD against the limit ARGV[2] on counter KEYS[1].
-- Returns the new committed total, or -1 when the reservation would overspend.
local committed = tonumber(redis.call('GET', KEYS[1]) or '0')
local amount = tonumber(ARGV[1])
if committed + amount > tonumber(ARGV[2]) then
  return -1
end
committed = redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return committed

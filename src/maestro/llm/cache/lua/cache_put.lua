-- Store one entry atomically: entry, L1/L2 pointers, LRU score, vector and its log,
-- then sweep entries unused for a whole TTL and evict the least recently used
-- beyond max_entries.
-- KEYS: entry, l1 pointer, l2 pointer, lru zset, vectors hash, vector log, log token
-- ARGV: base, id, namespace, payload, ttl_ms, now_ms, max_entries, vector bytes ('' = none),
--       log cap
local base, id, ns, payload = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ttl, now, maxn = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local vec, logcap = ARGV[8], tonumber(ARGV[9])
local lru = KEYS[4]

local function drop(member)
  local sep = string.find(member, '|', 1, true)
  local mns, mid = string.sub(member, 1, sep - 1), string.sub(member, sep + 1)
  redis.call('ZREM', lru, member)
  redis.call('DEL', base .. 'e:' .. mid)
  if redis.call('HDEL', base .. 'v:' .. mns, mid) == 1 then
    redis.call('RPUSH', base .. 'log:' .. mns, '-' .. mid)
  end
end

-- last use <= now - ttl implies creation <= now - ttl: surely expired
for _, m in ipairs(redis.call('ZRANGEBYSCORE', lru, '-inf', now - ttl, 'LIMIT', 0, 64)) do
  drop(m)
end

local member = ns .. '|' .. id
redis.call('SET', KEYS[1], payload, 'PX', ttl)
redis.call('SET', KEYS[2], member, 'PX', ttl)
redis.call('SET', KEYS[3], member, 'PX', ttl)
redis.call('ZADD', lru, now, member)
redis.call('PEXPIRE', lru, ttl)

if vec ~= '' then
  if not redis.call('GET', KEYS[7]) then
    redis.call('SET', KEYS[7], id .. ':' .. now)
  end
  redis.call('HSET', KEYS[5], id, vec)
  if redis.call('RPUSH', KEYS[6], '+' .. id) > logcap then
    -- compaction: mirrors see a new token and reload the whole hash
    redis.call('DEL', KEYS[6])
    redis.call('SET', KEYS[7], id .. ':' .. now .. ':c')
  end
  redis.call('PEXPIRE', KEYS[5], ttl)
  redis.call('PEXPIRE', KEYS[6], ttl)
  redis.call('PEXPIRE', KEYS[7], ttl)
end

local evicted = 0
local over = redis.call('ZCARD', lru) - maxn
if over > 0 then
  for _, m in ipairs(redis.call('ZRANGE', lru, 0, over - 1)) do
    drop(m)
    evicted = evicted + 1
  end
end
return evicted

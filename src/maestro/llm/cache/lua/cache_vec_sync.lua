-- What a replica's L3 mirror of one namespace is missing, in one consistent read.
-- KEYS: vectors hash, vector log, log token
-- ARGV: known token, known log length, largest hash returned whole
-- Returns {token, length, 1, flat HGETALL} when the mirror must reload (new token:
-- compaction or expiry) and the hash is small; {token, length, 2, {}} when it is larger
-- (the mirror pages it with cache_vec_page, then applies the log after this length: one
-- reply of 100k vectors, 200 MB, outlasts the client's read timeout); else
-- {token, length, 0, {op1, vec1, op2, vec2, ...}} with the log items after the known
-- length ('+id' with the vector, '-id' with '').
local token = redis.call('GET', KEYS[3]) or ''
local n = redis.call('LLEN', KEYS[2])
local off = tonumber(ARGV[2])
if token ~= ARGV[1] or n < off then
  if redis.call('HLEN', KEYS[1]) > tonumber(ARGV[3]) then
    return {token, n, 2, {}}
  end
  return {token, n, 1, redis.call('HGETALL', KEYS[1])}
end
if n == off then
  return {token, n, 0, {}}
end
local out = {}
for _, item in ipairs(redis.call('LRANGE', KEYS[2], off, n - 1)) do
  out[#out + 1] = item
  if string.sub(item, 1, 1) == '+' then
    out[#out + 1] = redis.call('HGET', KEYS[1], string.sub(item, 2)) or ''
  else
    out[#out + 1] = ''
  end
end
return {token, n, 0, out}

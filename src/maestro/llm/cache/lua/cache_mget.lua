-- Entry payloads by key (false for expired or evicted ones); nothing is marked used.
-- KEYS: entry keys
if #KEYS == 0 then return {} end
return redis.call('MGET', unpack(KEYS))

-- One page of a namespace's vector hash, for a mirror reloading a large namespace.
-- KEYS: vectors hash   ARGV: HSCAN cursor, page size
-- Returns {next cursor ('0' at the end), {id1, vec1, id2, vec2, ...}}. A field may come
-- twice; changes made while paging are in the log after the length the sync returned.
return redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])

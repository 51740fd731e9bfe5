-- seed: raises a subject's spent amount in one period, never lowers it.
-- KEYS: 1 budget hash. ARGV: 1 period id, 2 amount (nano-dollars).
local field = 's:' .. ARGV[1]
local cur = tonumber(redis.call('HGET', KEYS[1], field) or '0')
if cur < tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], field, ARGV[2])
  return 1
end
return 0

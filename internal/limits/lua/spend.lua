-- spend: a subject's spent and reserved amounts in one period, after ending
-- expired leases. KEYS: 1 lease set, 2 budget hash. ARGV: 1 now (unix ms),
-- 2 period id. Reply: {spent, reserved} as decimal strings.
purge(KEYS[1], KEYS[2], ARGV[1])
local sr = redis.call('HMGET', KEYS[2], 's:' .. ARGV[2], 'r:' .. ARGV[2])
return { sr[1] or '0', sr[2] or '0' }

-- settle: ends one admitted request (Settle, or Release with zero usage).
-- Mirrors Memory.end in memory.go.
--
-- KEYS as for admit. ARGV: 1 now (unix ms), 2 ticket id, 3 admission second,
-- 4 token correction (actual − charged), 5 actual cost (nano-dollars),
-- 6 number of subjects; then per subject i, from a = 6 + 3(i-1): a+1 budget
-- period id, a+2 reserved (nano-dollars), a+3 "1" if tokens were charged to
-- its window.
local lo = math.floor(tonumber(ARGV[1]) / 1000) - 60
local id, secArg = ARGV[2], ARGV[3]
local deltaArg = ARGV[4]
local actual = ARGV[5]
local n = tonumber(ARGV[6])
for i = 1, n do
  local w, f, b = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local a = 6 + 3 * (i - 1)
  local period, reserved, charged = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  -- A lease already expired was purged, with its reservation.
  if redis.call('ZREM', f, id .. '|' .. period .. '|' .. reserved) == 1 and reserved ~= '0' then
    unreserve(b, period, reserved)
  end
  if actual ~= '0' then
    redis.call('HINCRBY', b, 's:' .. period, actual)
  end
  if charged == '1' and deltaArg ~= '0' and tonumber(secArg) >= lo then
    local field = 't' .. secArg
    if redis.call('HEXISTS', w, field) == 1 then
      redis.call('HINCRBY', w, field, deltaArg)
    end
  end
end
return 1

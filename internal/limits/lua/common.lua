-- Shared by every script: leases and reservations (see the package doc for
-- the keys). A lease is "<ticket>|<period>|<reserved nano-dollars>" in a
-- sorted set scored by its expiry in unix ms.

-- unreserve takes reserved (a decimal string) off period's reservations in
-- budget hash b, dropping the field at zero.
local function unreserve(b, period, reserved)
  local field = 'r:' .. period
  if redis.call('HINCRBY', b, field, '-' .. reserved) <= 0 then
    redis.call('HDEL', b, field)
  end
end

-- purge ends the leases of set f that expire at or before now (unix ms, a
-- string) and takes their reservations off budget hash b.
local function purge(f, b, now)
  local expired = redis.call('ZRANGEBYSCORE', f, '-inf', now)
  if #expired == 0 then
    return
  end
  for _, m in ipairs(expired) do
    local period, reserved = string.match(m, '^[^|]*|([^|]*)|(%d+)$')
    if period and reserved ~= '0' then
      unreserve(b, period, reserved)
    end
  end
  redis.call('ZREMRANGEBYSCORE', f, '-inf', now)
end

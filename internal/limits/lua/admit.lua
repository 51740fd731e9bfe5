-- admit: checks one request against the limits of its key (and team) and,
-- only if every limit allows it, records it. Mirrors memSubject.check and
-- memSubject.apply in memory.go.
--
-- KEYS, per subject i (1: key, 2: team): KEYS[3i-2] window hash, KEYS[3i-1]
-- lease set, KEYS[3i] budget hash.
-- ARGV: 1 now (unix ms), 2 ticket id, 3 tokens, 4 cost (nano-dollars),
-- 5 lease expiry (unix ms), 6 number of subjects, 7 now (unix second); then
-- per subject i, from a = 7 + 6(i-1): a+1 rpm, a+2 tpm, a+3 max concurrent,
-- a+4 budget, a+5 budget period id, a+6 period end (unix ms; 0: none).
--
-- Reply: {admitted (0/1), number of failures, then per failure: limit code
-- (1 rpm, 2 tpm, 3 concurrency, 4 budget), subject index (0-based), retry ms
-- (-1: never), allowed, used, requested; then per subject: requests in
-- window, newest request second (-1: none), tokens in window, newest token
-- second}.
local now = tonumber(ARGV[1])
local id = ARGV[2]
local tokensArg = ARGV[3]
local tokens = tonumber(tokensArg)
local costArg = ARGV[4]
local cost = tonumber(costArg)
local expires = ARGV[5]
local n = tonumber(ARGV[6])
local secArg = ARGV[7]
local sec = tonumber(secArg)
local lo = sec - 60

local fails = {}
local subs = {}

local function fail(code, i, retry, allowed, used, requested)
  local k = #fails
  fails[k + 1] = code
  fails[k + 2] = i - 1
  fails[k + 3] = retry
  fails[k + 4] = allowed
  fails[k + 5] = used
  fails[k + 6] = requested
end

-- retryAt: when enough of the window's buckets of kind k (114 'r' or 116
-- 't'), given as HGETALL's reply all, have left the window to free need.
-- Only refusals get here, so admissions build no tables per bucket.
local function retryAt(all, k, need)
  local bs = {}
  for j = 1, #all, 2 do
    local field = all[j]
    local sec_, v = tonumber(string.sub(field, 2)), tonumber(all[j + 1])
    if string.byte(field, 1) == k and sec_ >= lo and v > 0 then
      bs[#bs + 1] = { sec_, v }
    end
  end
  table.sort(bs, function(x, y) return x[1] < y[1] end)
  local freed = 0
  for _, bk in ipairs(bs) do
    freed = freed + bk[2]
    if freed >= need then
      return (bk[1] + 61) * 1000 - now
    end
  end
  return -1
end

-- tidy drops the accounts of past periods of the current period's kind
-- (never "total", nor the other kinds, which Spend may still read) once
-- nothing is reserved in them. all is HGETALL's reply for budget hash b.
local function tidy(b, current, all)
  local kind = string.match(current, '^%a+:')
  if not kind then
    return
  end
  local reserved = {}
  for j = 1, #all, 2 do
    if string.sub(all[j], 1, 2) == 'r:' then
      reserved[string.sub(all[j], 3)] = tonumber(all[j + 1])
    end
  end
  local drop = {}
  for j = 1, #all, 2 do
    local p = string.sub(all[j], 3)
    if p ~= current and string.sub(p, 1, #kind) == kind and (reserved[p] or 0) <= 0 then
      drop[#drop + 1] = all[j]
    end
  end
  if #drop > 0 then
    redis.call('HDEL', b, unpack(drop))
  end
end

for i = 1, n do
  local w, f, b = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local a = 7 + 6 * (i - 1)
  local s = {
    rpm = tonumber(ARGV[a + 1]), tpm = tonumber(ARGV[a + 2]), conc = tonumber(ARGV[a + 3]),
    budget = tonumber(ARGV[a + 4]), period = ARGV[a + 5], periodEnd = tonumber(ARGV[a + 6]),
    rused = 0, rnew = -1, tused = 0, tnew = -1,
  }
  subs[i] = s
  purge(f, b, ARGV[1])
  if s.rpm > 0 or s.tpm > 0 then
    local all = redis.call('HGETALL', w)
    local stale = {}
    for j = 1, #all, 2 do
      local field = all[j]
      local bs = tonumber(string.sub(field, 2))
      if bs < lo then
        stale[#stale + 1] = field
      else
        local v = tonumber(all[j + 1])
        if v > 0 then
          if string.byte(field, 1) == 114 then -- 'r'
            s.rused = s.rused + v
            if bs > s.rnew then s.rnew = bs end
          else
            s.tused = s.tused + v
            if bs > s.tnew then s.tnew = bs end
          end
        end
      end
    end
    if #stale > 0 then
      redis.call('HDEL', w, unpack(stale))
    end
    if s.rpm > 0 and s.rused + 1 > s.rpm then
      fail(1, i, retryAt(all, 114, s.rused + 1 - s.rpm), s.rpm, s.rused, 1)
    end
    if s.tpm > 0 and s.tused + tokens > s.tpm then
      local retry = -1
      if tokens <= s.tpm then
        retry = retryAt(all, 116, s.tused + tokens - s.tpm)
      end
      fail(2, i, retry, s.tpm, s.tused, tokens)
    end
  end
  local inflight = redis.call('ZCARD', f)
  if s.conc > 0 and inflight + 1 > s.conc then
    fail(3, i, 1000, s.conc, inflight, 1)
  end
  local ball = redis.call('HGETALL', b) -- a few fields: see tidy
  local sf, rf = 's:' .. s.period, 'r:' .. s.period
  local spent, reserved = 0, 0
  for j = 1, #ball, 2 do
    if ball[j] == sf then
      spent = tonumber(ball[j + 1])
    elseif ball[j] == rf then
      reserved = tonumber(ball[j + 1])
    end
  end
  if #ball > 8 then
    tidy(b, s.period, ball)
  end
  if s.budget > 0 and spent + reserved + cost > s.budget then
    local retry
    if cost > s.budget then
      retry = -1
    elseif spent + cost <= s.budget then
      retry = 1000 -- full only of reservations, which end soon
    elseif s.periodEnd > 0 then
      retry = s.periodEnd - now
    else
      retry = -1
    end
    fail(4, i, retry, s.budget, spent + reserved, cost)
  end
end

local admitted = 0
if #fails == 0 then
  admitted = 1
  for i = 1, n do
    local w, f, b = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
    local s = subs[i]
    if s.rpm > 0 then
      redis.call('HINCRBY', w, 'r' .. secArg, 1)
      s.rused = s.rused + 1
      if sec > s.rnew then s.rnew = sec end
    end
    if s.tpm > 0 then
      redis.call('HINCRBY', w, 't' .. secArg, tokensArg)
      if tokens > 0 then
        s.tused = s.tused + tokens
        if sec > s.tnew then s.tnew = sec end
      end
    end
    if s.rpm > 0 or s.tpm > 0 then
      redis.call('PEXPIRE', w, 62000)
    end
    redis.call('ZADD', f, expires, id .. '|' .. s.period .. '|' .. costArg)
    if cost > 0 then
      redis.call('HINCRBY', b, 'r:' .. s.period, costArg)
    end
  end
end

local out = { admitted, #fails / 6 }
for _, x in ipairs(fails) do
  out[#out + 1] = x
end
for i = 1, n do
  local s = subs[i]
  out[#out + 1] = s.rused
  out[#out + 1] = s.rnew
  out[#out + 1] = s.tused
  out[#out + 1] = s.tnew
end
return out

"""The Lua scripts of the Redis counters (`redis_counters.py`): TAKE checks and takes, ADJUST corrects."""

# ARGV: the call's distinct segments (a limit plan's counters, say), then its checks. Segments: their
# number, then per segment: nkeys (its keys follow the previous segments' in KEYS), ncounters, per
# counter: key index (in the segment's keys), nfields, fields..., limit, amount slot (1-based), expire_at
# (0: none). Checks: their number, then per check: namounts, amounts..., nsegments, segment numbers.
# Checks of one plan share its segment: it is sent and parsed once per call. Per check the reply has
# {1, sum1, sum2, ...} (each counter's sum after taking) or {0, index (1-based), sum seen}.
# A counter takes first and checks after (one HINCRBY instead of HMGET + HINCRBY); a refusal gives back
# what the check took, so nothing of a refused check stays. A field created by the take gets its window's
# expiry at once (a refused take leaves it at 0, still expiring).
TAKE = """
local call, tn = redis.call, tonumber
-- the call's distinct segments, parsed once
local segs, a, kb = {}, 2, 0
for s = 1, tn(ARGV[1]) do
  local nk, nc = tn(ARGV[a]), tn(ARGV[a + 1])
  a = a + 2
  local seg = {}
  for c = 1, nc do
    local nf = tn(ARGV[a + 1])
    local fields = {}
    for i = 1, nf do fields[i] = ARGV[a + 1 + i] end
    seg[c] = {KEYS[kb + tn(ARGV[a])], fields, tn(ARGV[a + 2 + nf]), tn(ARGV[a + 3 + nf]), tn(ARGV[a + 4 + nf])}
    a = a + 5 + nf
  end
  segs[s] = seg
  kb = kb + nk
end
local out, o = {}, 0
for _ = 1, tn(ARGV[a]) do
  a = a + 1
  local na = tn(ARGV[a])
  local amounts, takes = {}, {}
  for i = 1, na do amounts[i] = ARGV[a + i]; takes[i] = tn(ARGV[a + i]) end
  a = a + na + 1
  local nseg = tn(ARGV[a])
  local start, n, t, denied, tk, tf, ta = o, 0, 0, false, {}, {}, {}
  o = o + 1
  for s = 1, nseg do
    local seg = segs[tn(ARGV[a + s])]
    for c = 1, #seg do
      local it = seg[c]
      n = n + 1
      if not denied then
        local k, fields, slot = it[1], it[2], it[4]
        local take = takes[slot]
        local v = call('HINCRBY', k, fields[1], amounts[slot])
        if v == take and it[5] > 0 then call('EXPIREAT', k, it[5]) end
        if take ~= 0 then t = t + 1; tk[t] = k; tf[t] = fields[1]; ta[t] = take end
        for i = 2, #fields do v = v + (tn(call('HGET', k, fields[i])) or 0) end
        if v > it[3] then
          denied = true
          for j = t, 1, -1 do call('HINCRBY', tk[j], tf[j], -ta[j]) end
          for j = o, start + 4, -1 do out[j] = nil end
          out[start + 1] = 0; out[start + 2] = n; out[start + 3] = v - take
          o = start + 3
        else
          o = o + 1; out[o] = v
        end
      end
    end
  end
  a = a + nseg
  if not denied then out[start + 1] = 1 end
end
return out
"""

# KEYS: the hashes to correct. ARGV[1]: per correction "keyindex field delta" joined by ";". A hash that
# is gone (its window ended) is left alone.
ADJUST = """
for key, name, delta in string.gmatch(ARGV[1], "(%d+) ([^ ]+) (-?%d+)") do
  local k = KEYS[tonumber(key)]
  if redis.call('EXISTS', k) == 1 then redis.call('HINCRBY', k, name, tonumber(delta)) end
end
return 1
"""

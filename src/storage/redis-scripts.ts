/**
 * The Lua scripts of the Redis backend: one script per command, so that each command is atomic
 * on the server whatever the number of front processes. A key's two Redis keys, its metadata
 * hash and its list's elements, share one hash tag and therefore one cluster slot (see
 * redis.ts); Redis 7 refuses a cross-slot script, so a layout error could not go unnoticed.
 *
 * The metadata hash holds `kind` (`string` | `string_slice`), `value` (strings only),
 * `created_ms`, `updated_ms` and `expires_ms` (epoch ms, 0 = never), as decimal text, and
 * `version`: the revision of the key's last write (absent on a key written before versions: 0).
 * Times come from the Redis server's clock (TIME), so that every front agrees. An expiry is also
 * set with PEXPIREAT on both keys: Redis itself expires them. Other fields are kept.
 *
 * Revisions: every write takes the next value of a counter key (INCR) in the same script: the
 * one global counter on a standalone Redis, a counter per hash slot (in that slot) on a cluster,
 * so that a script never leaves its slot; a cluster's revision is also at least the master's
 * clock (TIME) in microseconds. A revision is never below the version of a key it
 * writes plus one, should the counter have been lost. On a standalone Redis, each write also
 * appends its changes to the change stream (XADD with the id `revision-index`, MAXLEN ~ the
 * watch history) when the script is given one, atomically with the write.
 *
 * The writing scripts take KEYS meta, list, counter[, stream] and ARGV precondition ('' none,
 * `absent`, `exists`, `=N`: version N), the stream's MAXLEN (0: none; -1: none, and a cluster's
 * revisions, which are at least the server's clock in microseconds), then their own. Every
 * check happens before the first write: a Lua script that fails midway keeps what it wrote.
 *
 * Answers are arrays whose first element is a status: 1 done, 0 no such key, -1 wrong type,
 * -2 empty list, -3 precondition failed (then the current version, -1 when missing).
 * Read-only scripts declare `flags=no-writes`, so Redis serves them under OOM and on replicas;
 * the writing ones declare no flag, so Redis refuses them whole under OOM.
 */

/** Helpers shared by the scripts. */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n) return string.format('%.0f', n) end
local function expire_both(meta, list, x)
  if x > 0 then
    redis.call('PEXPIREAT', meta, ms(x))
    redis.call('PEXPIREAT', list, ms(x))
  else
    redis.call('PERSIST', meta)
    redis.call('PERSIST', list)
  end
end
-- Appends items[from..] to the list, 1000 at a time (unpack's limit); answers the length.
local function push_all(list, items, from)
  local length = redis.call('LLEN', list)
  for i = from, #items, 1000 do
    length = redis.call('RPUSH', list, unpack(items, i, math.min(i + 999, #items)))
  end
  return length
end
-- The key's version, or nil when it is missing.
local function version_of(meta)
  local m = redis.call('HMGET', meta, 'kind', 'version')
  if not m[1] then return nil end
  return tonumber(m[2]) or 0
end
-- Whether precondition pre holds for a key at version v (nil: missing).
local function holds(pre, v)
  if pre == '' then return true end
  if pre == 'absent' then return v == nil end
  if pre == 'exists' then return v ~= nil end
  return v ~= nil and v == tonumber(string.sub(pre, 2))
end
-- The next revision: INCR of the counter, at least floor. A counter found missing (INCR gives 1)
-- continues after the stream's last change, so that revisions and stream ids never go back. On a
-- cluster (clock true), at least the server's clock in microseconds too: revisions of different
-- slots then follow time, and one that a failover lost is not handed out again.
local function next_revision(counter, stream, floor, clock)
  if clock then
    local t = redis.call('TIME')
    local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
    if us > floor then floor = us end
  end
  local rev = redis.call('INCR', counter)
  if rev == 1 and stream then
    local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
    if last[1] then
      local top = tonumber(string.match(last[1][1], '^(%d+)'))
      if top and top + 1 > floor then floor = top + 1 end
    end
  end
  if rev < floor then
    rev = floor
    redis.call('SET', counter, ms(rev))
  end
  return rev
end
-- The key as the change stream records it: {kind, value | length, created, updated, expires}.
local function entry_of(meta, list, summary)
  local m = redis.call('HMGET', meta, 'kind', 'value', 'created_ms', 'updated_ms', 'expires_ms')
  local e = {kind = m[1], c = m[3], u = m[4], x = m[5]}
  if m[1] == 'string' then e.value = m[2]
  elseif summary then e.length = redis.call('LLEN', list)
  else e.value = redis.call('LRANGE', list, 0, -1) end
  return e
end
local function emit(stream, maxlen, rev, index, change)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, ms(rev) .. '-' .. index, 'c', cjson.encode(change))
end

-- The writes, on one key's meta and list, once every check has passed. ttl: '' (default or
-- keep) or ms; items[from..]: the value (a string) or the elements.
local function do_set(meta, list, rev, now, kind, ttl, dttl, items, from)
  local t = tonumber(ttl) or tonumber(dttl)
  local x = 0
  if t > 0 then x = now + t end
  redis.call('DEL', list)
  redis.call('HDEL', meta, 'value')
  redis.call('HSET', meta, 'kind', kind, 'created_ms', ms(now), 'updated_ms', ms(now), 'expires_ms', ms(x), 'version', ms(rev))
  if kind == 'string' then redis.call('HSET', meta, 'value', items[from]) else push_all(list, items, from) end
  expire_both(meta, list, x)
end
local function do_update(meta, list, rev, now, kind, ttl, items, from)
  local x = tonumber(redis.call('HGET', meta, 'expires_ms')) or 0
  if ttl ~= '' then x = now + tonumber(ttl) end
  redis.call('DEL', list)
  redis.call('HDEL', meta, 'value')
  redis.call('HSET', meta, 'kind', kind, 'updated_ms', ms(now), 'expires_ms', ms(x), 'version', ms(rev))
  if kind == 'string' then redis.call('HSET', meta, 'value', items[from]) else push_all(list, items, from) end
  expire_both(meta, list, x)
end
-- Answers created, expires, length.
local function do_push(meta, list, rev, now, ttl, dttl, items, from)
  local m = redis.call('HMGET', meta, 'kind', 'created_ms', 'expires_ms')
  local created, x
  if m[1] then
    created = tonumber(m[2])
    x = tonumber(m[3])
    if ttl ~= '' then x = now + tonumber(ttl) end
  else
    created = now
    local t = tonumber(ttl) or tonumber(dttl)
    x = 0
    if t > 0 then x = now + t end
  end
  redis.call('HSET', meta, 'kind', 'string_slice', 'created_ms', ms(created), 'updated_ms', ms(now), 'expires_ms', ms(x), 'version', ms(rev))
  local length = push_all(list, items, from)
  expire_both(meta, list, x)
  return created, x, length
end
-- Answers the element removed and the length left.
local function do_pop(meta, list, rev, now)
  local popped = redis.call('RPOP', list)
  redis.call('HSET', meta, 'updated_ms', ms(now), 'version', ms(rev))
  return popped, redis.call('LLEN', list)
end
local function do_ttl(meta, list, rev, now, ttl)
  local x = 0
  if ttl ~= '' then x = now + tonumber(ttl) end
  redis.call('HSET', meta, 'updated_ms', ms(now), 'expires_ms', ms(x), 'version', ms(rev))
  expire_both(meta, list, x)
  return x
end
`;

const WRITES = '#!lua\n' + PRELUDE;
const READS = '#!lua flags=no-writes\n' + PRELUDE;

/** The header of a single-key writing script: its keys, precondition and stream. */
const SINGLE = `
local meta, list, counter, stream = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local pre, maxlen = ARGV[1], ARGV[2]
local clock = maxlen == '-1'
`;

/** A failed precondition's answer. */
const PRECONDITION = `
local current = version_of(meta)
if not holds(pre, current) then return {-3, current or -1} end
`;

/**
 * GET: ARGV none. → {0} | {1, 'string', value, created, updated, expires, version}
 * | {1, 'string_slice', {elements}, created, updated, expires, version}
 */
export const GET_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'value', 'created_ms', 'updated_ms', 'expires_ms', 'version')
if not m[1] then return {0} end
local v = m[6] or '0'
if m[1] == 'string' then return {1, m[1], m[2], m[3], m[4], m[5], v} end
return {1, m[1], redis.call('LRANGE', KEYS[2], 0, -1), m[3], m[4], m[5], v}
`;

/** SET: ARGV pre, maxlen, kind, ttl ms ('' = default), default ttl ms (0 = none), value | elements… → {-3, v} | {1, version} */
export const SET_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
local rev = next_revision(counter, stream, (current or 0) + 1, clock)
local now = now_ms()
do_set(meta, list, rev, now, ARGV[3], ARGV[4], ARGV[5], ARGV, 6)
if stream then emit(stream, maxlen, rev, 0, {o = 'set', k = meta, n = 1, e = entry_of(meta, list, false)}) end
return {1, rev}
`;

/** UPDATE: ARGV pre, maxlen, kind, ttl ms ('' = keep), value | elements… → {-3, v} | {0} | {1, version} */
export const UPDATE_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
if not current then return {0} end
local rev = next_revision(counter, stream, current + 1, clock)
local now = now_ms()
do_update(meta, list, rev, now, ARGV[3], ARGV[4], ARGV, 5)
if stream then emit(stream, maxlen, rev, 0, {o = 'update', k = meta, n = 1, e = entry_of(meta, list, false)}) end
return {1, rev}
`;

/** REMOVE: ARGV pre, maxlen → {-3, v} | {0} | {1, revision} */
export const REMOVE_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
if not current then return {0} end
local rev = next_revision(counter, stream, current + 1, clock)
redis.call('DEL', meta, list)
if stream then emit(stream, maxlen, rev, 0, {o = 'remove', k = meta, n = 1}) end
return {1, rev}
`;

/**
 * PUSH: ARGV pre, maxlen, ttl ms ('' = keep, or the default for a new list), default ttl ms,
 * 'full' | 'summary', elements… → {-3, v} | {-1} | {1, created, updated, expires, length, version[, {elements}]}
 */
export const PUSH_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
if current and redis.call('HGET', meta, 'kind') ~= 'string_slice' then return {-1} end
local rev = next_revision(counter, stream, (current or 0) + 1, clock)
local now = now_ms()
local created, x, length = do_push(meta, list, rev, now, ARGV[3], ARGV[4], ARGV, 6)
if stream then
  local values = {}
  for i = 6, #ARGV do values[#values + 1] = ARGV[i] end
  emit(stream, maxlen, rev, 0, {o = 'push', k = meta, n = 1, e = entry_of(meta, list, true), values = values})
end
if ARGV[5] == 'full' then return {1, ms(created), ms(now), ms(x), length, rev, redis.call('LRANGE', list, 0, -1)} end
return {1, ms(created), ms(now), ms(x), length, rev}
`;

/**
 * POP: ARGV pre, maxlen, 'full' | 'summary' → {-3, v} | {0} | {-1} | {-2}
 * | {1, created, updated, expires, length, popped, version[, {elements}]}
 */
export const POP_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
if not current then return {0} end
local m = redis.call('HMGET', meta, 'kind', 'created_ms', 'expires_ms')
if m[1] ~= 'string_slice' then return {-1} end
if redis.call('LLEN', list) == 0 then return {-2} end
local rev = next_revision(counter, stream, current + 1, clock)
local now = now_ms()
local popped, length = do_pop(meta, list, rev, now)
if stream then emit(stream, maxlen, rev, 0, {o = 'pop', k = meta, n = 1, e = entry_of(meta, list, true), popped = popped}) end
if ARGV[3] == 'full' then return {1, m[2], ms(now), m[3], length, popped, rev, redis.call('LRANGE', list, 0, -1)} end
return {1, m[2], ms(now), m[3], length, popped, rev}
`;

/** RANGE: ARGV start, stop (LRANGE's) → {0} | {-1} | {1, created, updated, expires, length, {elements}, version} */
export const RANGE_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'created_ms', 'updated_ms', 'expires_ms', 'version')
if not m[1] then return {0} end
if m[1] ~= 'string_slice' then return {-1} end
return {1, m[2], m[3], m[4], redis.call('LLEN', KEYS[2]), redis.call('LRANGE', KEYS[2], ARGV[1], ARGV[2]), m[5] or '0'}
`;

/** EXPIRY: → {0} | {1, expires, version} */
export const EXPIRY_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'expires_ms', 'version')
if not m[1] then return {0} end
return {1, m[2], m[3] or '0'}
`;

/** SET_TTL: ARGV pre, maxlen, ttl ms ('' = never expire) → {-3, v} | {0} | {1, expires, version} */
export const SET_TTL_SCRIPT = `${WRITES}${SINGLE}${PRECONDITION}
if not current then return {0} end
local rev = next_revision(counter, stream, current + 1, clock)
local x = do_ttl(meta, list, rev, now_ms(), ARGV[3])
if stream then emit(stream, maxlen, rev, 0, {o = 'ttl', k = meta, n = 1, e = entry_of(meta, list, false)}) end
return {1, ms(x), rev}
`;

/**
 * TXN: KEYS counter[, stream], then meta and list of each key; ARGV maxlen (0: no stream; -1: a cluster's),
 * default ttl ms, then the transaction as JSON: {"c": [[key number, version | -1 (missing)]…],
 * "o": [{"o": op, "k": key number, "kind", "v": value | elements, "t": ttl ms | ''}…]} (key
 * numbers from 1). Every check, then every op on the state the ops before it leave, is validated
 * before the first write; then every op is applied with one revision.
 * → {-3, {key number, version | -1}…} (checks that failed)
 *   | {-4, op index (from 0), 'item_not_found' | 'wrong_type' | 'list_empty'}
 *   | {1, revision, {{version | -1, length | -1, popped | false}…}}
 */
export const TXN_SCRIPT = `${WRITES}
local maxlen, dttl = tonumber(ARGV[1]), ARGV[2]
local clock = maxlen < 0
local counter = KEYS[1]
local stream = nil
local base = 1
if maxlen > 0 then
  stream = KEYS[2]
  base = 2
end
local function meta_of(k) return KEYS[base + 2 * k - 1] end
local function list_of(k) return KEYS[base + 2 * k] end
local txn = cjson.decode(ARGV[3])
local conflicts = {}
local floor = 1
for _, check in ipairs(txn.c) do
  local v = version_of(meta_of(check[1]))
  if v and v + 1 > floor then floor = v + 1 end
  if (check[2] == -1 and v ~= nil) or (check[2] ~= -1 and v ~= check[2]) then
    conflicts[#conflicts + 1] = {check[1], v or -1}
  end
end
if #conflicts > 0 then return {-3, conflicts} end
-- The state each op leaves, per key: exists, kind, length.
local state = {}
local function state_of(k)
  local s = state[k]
  if s then return s end
  local m = redis.call('HMGET', meta_of(k), 'kind', 'version')
  s = {exists = m[1] ~= false, kind = m[1]}
  if m[1] then
    local v = tonumber(m[2]) or 0
    if v + 1 > floor then floor = v + 1 end
  end
  if m[1] == 'string_slice' then s.length = redis.call('LLEN', list_of(k)) end
  state[k] = s
  return s
end
for i, op in ipairs(txn.o) do
  local s = state_of(op.k)
  local o = op.o
  if o == 'set' or (o == 'update' and s.exists) then
    s.exists, s.kind = true, op.kind
    if op.kind == 'string_slice' then s.length = #op.v end
  elseif o == 'push' then
    if s.exists and s.kind ~= 'string_slice' then return {-4, i - 1, 'wrong_type'} end
    if not s.exists then s.exists, s.kind, s.length = true, 'string_slice', 0 end
    s.length = s.length + #op.v
  elseif not s.exists then
    return {-4, i - 1, 'item_not_found'}
  elseif o == 'remove' then
    s.exists = false
  elseif o == 'pop' then
    if s.kind ~= 'string_slice' then return {-4, i - 1, 'wrong_type'} end
    if s.length == 0 then return {-4, i - 1, 'list_empty'} end
    s.length = s.length - 1
  end
end
local count = #txn.o
if count == 0 then return {1, tonumber(redis.call('GET', counter)) or 0, {}} end
local rev = next_revision(counter, stream, floor, clock)
local now = now_ms()
local results = {}
for i, op in ipairs(txn.o) do
  local meta, list, o = meta_of(op.k), list_of(op.k), op.o
  local change = {o = o, k = meta, n = count}
  if o == 'set' then
    local items = op.v
    if op.kind == 'string' then items = {op.v} end
    do_set(meta, list, rev, now, op.kind, op.t, dttl, items, 1)
    results[i] = {rev, -1, false}
    if stream then change.e = entry_of(meta, list, false) end
  elseif o == 'update' then
    local items = op.v
    if op.kind == 'string' then items = {op.v} end
    do_update(meta, list, rev, now, op.kind, op.t, items, 1)
    results[i] = {rev, -1, false}
    if stream then change.e = entry_of(meta, list, false) end
  elseif o == 'push' then
    local _, _, length = do_push(meta, list, rev, now, op.t, dttl, op.v, 1)
    results[i] = {rev, length, false}
    if stream then
      change.e = entry_of(meta, list, true)
      change.values = op.v
    end
  elseif o == 'pop' then
    local popped, length = do_pop(meta, list, rev, now)
    results[i] = {rev, length, popped}
    if stream then
      change.e = entry_of(meta, list, true)
      change.popped = popped
    end
  elseif o == 'remove' then
    redis.call('DEL', meta, list)
    results[i] = {-1, -1, false}
  elseif o == 'ttl' then
    do_ttl(meta, list, rev, now, op.t)
    results[i] = {rev, -1, false}
    if stream then change.e = entry_of(meta, list, false) end
  end
  if stream then emit(stream, maxlen, rev, i - 1, change) end
end
return {1, rev, results}
`;

/**
 * FLUSHED: KEYS counter[, stream]; ARGV maxlen → the revision of a flush, recorded in the stream
 * once the flush has removed the keys.
 */
export const FLUSHED_SCRIPT = `${WRITES}
local rev = next_revision(KEYS[1], KEYS[2], 1)
if KEYS[2] then emit(KEYS[2], ARGV[1], rev, 0, {o = 'flush', k = '', n = 1}) end
return rev
`;

/** REVISION: KEYS counter → the current revision (0 before the first write). */
export const REVISION_SCRIPT = `${READS}
return tonumber(redis.call('GET', KEYS[1])) or 0
`;

/**
 * DOCUMENT_SAVE (one key: a hash of `text` and `version`): ARGV expected version, text → the new
 * version, or -1 when the stored version is not the expected one (another process saved first).
 */
export const DOCUMENT_SAVE_SCRIPT = `#!lua
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return -1 end
redis.call('HSET', KEYS[1], 'text', ARGV[2], 'version', version + 1)
return version + 1
`;

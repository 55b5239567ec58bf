/**
 * The Lua scripts of the Redis backend: one script per command, so that each command is atomic
 * on the server whatever the number of front processes. Every script touches exactly two keys,
 * KEYS[1] (the metadata hash) and KEYS[2] (the list's elements), which share one hash tag and
 * therefore one cluster slot (see redis.ts); Redis 7 refuses a cross-slot script, so a layout
 * error could not go unnoticed.
 *
 * The metadata hash holds `kind` (`string` | `string_slice`), `value` (strings only),
 * `created_ms`, `updated_ms` and `expires_ms` (epoch ms, 0 = never), as decimal text. Times come
 * from the Redis server's clock (TIME), so that every front agrees. An expiry is also set with
 * PEXPIREAT on both keys: Redis itself expires them. Other fields (a future `version`) are kept.
 *
 * Answers are arrays whose first element is a status: 1 done, 0 no such key, -1 wrong type,
 * -2 empty list. Read-only scripts declare `flags=no-writes`, so Redis serves them under OOM and
 * on replicas; the writing ones declare no flag, so Redis refuses them whole under OOM.
 */

/** Helpers shared by the scripts: the server's time in ms, ms as text, the expiry of both keys. */
const PRELUDE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function ms(n) return string.format('%.0f', n) end
local function expire_both(x)
  if x > 0 then
    redis.call('PEXPIREAT', KEYS[1], ms(x))
    redis.call('PEXPIREAT', KEYS[2], ms(x))
  else
    redis.call('PERSIST', KEYS[1])
    redis.call('PERSIST', KEYS[2])
  end
end
local function push_all(from)
  local length = redis.call('LLEN', KEYS[2])
  for i = from, #ARGV, 1000 do
    length = redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  return length
end
`;

const WRITES = '#!lua\n' + PRELUDE;
const READS = '#!lua flags=no-writes\n' + PRELUDE;

/**
 * GET: ARGV none. → {0} | {1, 'string', value, created, updated, expires}
 * | {1, 'string_slice', {elements}, created, updated, expires}
 */
export const GET_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'value', 'created_ms', 'updated_ms', 'expires_ms')
if not m[1] then return {0} end
if m[1] == 'string' then return {1, m[1], m[2], m[3], m[4], m[5]} end
return {1, m[1], redis.call('LRANGE', KEYS[2], 0, -1), m[3], m[4], m[5]}
`;

/** SET: ARGV kind, ttl ms ('' = default), default ttl ms (0 = none), value | elements… → {1} */
export const SET_SCRIPT = `${WRITES}
local now = now_ms()
local ttl = tonumber(ARGV[2]) or tonumber(ARGV[3])
local x = 0
if ttl > 0 then x = now + ttl end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'value')
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'created_ms', ms(now), 'updated_ms', ms(now), 'expires_ms', ms(x))
if ARGV[1] == 'string' then redis.call('HSET', KEYS[1], 'value', ARGV[4]) else push_all(4) end
expire_both(x)
return {1}
`;

/** UPDATE: ARGV kind, ttl ms ('' = keep), value | elements… → {0} | {1} */
export const UPDATE_SCRIPT = `${WRITES}
local m = redis.call('HMGET', KEYS[1], 'kind', 'expires_ms')
if not m[1] then return {0} end
local now = now_ms()
local x = tonumber(m[2])
if ARGV[2] ~= '' then x = now + tonumber(ARGV[2]) end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], 'value')
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'updated_ms', ms(now), 'expires_ms', ms(x))
if ARGV[1] == 'string' then redis.call('HSET', KEYS[1], 'value', ARGV[3]) else push_all(3) end
expire_both(x)
return {1}
`;

/** REMOVE: → {0} | {1} */
export const REMOVE_SCRIPT = `${WRITES}
redis.call('DEL', KEYS[2])
return {redis.call('DEL', KEYS[1])}
`;

/**
 * PUSH: ARGV ttl ms ('' = keep, or the default for a new list), default ttl ms, 'full' | 'summary',
 * elements… → {-1} | {1, created, updated, expires, length[, {elements}]}
 */
export const PUSH_SCRIPT = `${WRITES}
local m = redis.call('HMGET', KEYS[1], 'kind', 'created_ms', 'expires_ms')
local now = now_ms()
local created, x
if m[1] then
  if m[1] ~= 'string_slice' then return {-1} end
  created = tonumber(m[2])
  x = tonumber(m[3])
  if ARGV[1] ~= '' then x = now + tonumber(ARGV[1]) end
else
  created = now
  local ttl = tonumber(ARGV[1]) or tonumber(ARGV[2])
  x = 0
  if ttl > 0 then x = now + ttl end
end
redis.call('HSET', KEYS[1], 'kind', 'string_slice', 'created_ms', ms(created), 'updated_ms', ms(now), 'expires_ms', ms(x))
local length = push_all(4)
expire_both(x)
if ARGV[3] == 'full' then return {1, ms(created), ms(now), ms(x), length, redis.call('LRANGE', KEYS[2], 0, -1)} end
return {1, ms(created), ms(now), ms(x), length}
`;

/**
 * POP: ARGV 'full' | 'summary' → {0} | {-1} | {-2}
 * | {1, created, updated, expires, length, popped[, {elements}]}
 */
export const POP_SCRIPT = `${WRITES}
local m = redis.call('HMGET', KEYS[1], 'kind', 'created_ms', 'expires_ms')
if not m[1] then return {0} end
if m[1] ~= 'string_slice' then return {-1} end
local popped = redis.call('RPOP', KEYS[2])
if not popped then return {-2} end
local now = now_ms()
redis.call('HSET', KEYS[1], 'updated_ms', ms(now))
local length = redis.call('LLEN', KEYS[2])
if ARGV[1] == 'full' then return {1, m[2], ms(now), m[3], length, popped, redis.call('LRANGE', KEYS[2], 0, -1)} end
return {1, m[2], ms(now), m[3], length, popped}
`;

/** RANGE: ARGV start, stop (LRANGE's) → {0} | {-1} | {1, created, updated, expires, length, {elements}} */
export const RANGE_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'created_ms', 'updated_ms', 'expires_ms')
if not m[1] then return {0} end
if m[1] ~= 'string_slice' then return {-1} end
return {1, m[2], m[3], m[4], redis.call('LLEN', KEYS[2]), redis.call('LRANGE', KEYS[2], ARGV[1], ARGV[2])}
`;

/** EXPIRY: → {0} | {1, expires} */
export const EXPIRY_SCRIPT = `${READS}
local m = redis.call('HMGET', KEYS[1], 'kind', 'expires_ms')
if not m[1] then return {0} end
return {1, m[2]}
`;

/** SET_TTL: ARGV ttl ms ('' = never expire) → {0} | {1, expires} */
export const SET_TTL_SCRIPT = `${WRITES}
local m = redis.call('HMGET', KEYS[1], 'kind')
if not m[1] then return {0} end
local now = now_ms()
local x = 0
if ARGV[1] ~= '' then x = now + tonumber(ARGV[1]) end
redis.call('HSET', KEYS[1], 'updated_ms', ms(now), 'expires_ms', ms(x))
expire_both(x)
return {1, ms(x)}
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

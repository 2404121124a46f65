-- unique.lua: every request carries a token that no request of this bench run
-- sent before, so every request to an authenticating location is a cache miss.
-- Suffix: "U", the wrk run's id (BENCH_RUN_ID, 2 digits: the warm-up and each
-- round get their own), the wrk thread's id (1 digit) and a per-thread counter
-- (6 digits). Against /plain/ it measures what this Lua costs wrk.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local token = dofile(dir .. "token.lua")

-- setup() runs in wrk's main Lua state once per thread, before that thread's
-- init(): the only way to give each thread a distinct id.
local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end

local fixed
local counter = 0

function init(args)
  assert(thread_id < 64, "at most 64 wrk threads")
  local run = assert(os.getenv("BENCH_RUN_ID"), "BENCH_RUN_ID is not set")
  assert(#run == 2, "BENCH_RUN_ID must be 2 base64url digits")
  fixed = "U" .. run .. token.digits(thread_id, 1)
end

function request()
  counter = counter + 1
  return token.request(fixed .. token.digits(counter, token.suffix_len - #fixed))
end

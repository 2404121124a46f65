-- herd.lua: the token changes once per second (suffix "H" and the Unix time)
-- and is the same on every connection and thread during that second: each
-- second all connections miss the cache at once with one new token, and the
-- module should send at most one TokenReview per child for it.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local token = dofile(dir .. "token.lua")

local second, req

function request()
  local now = os.time()
  if now ~= second then
    second = now
    req = token.request("H" .. token.digits(now, token.suffix_len - 1))
  end
  return req
end

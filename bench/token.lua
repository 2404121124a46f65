-- token.lua: what unique.lua and herd.lua share. The harness (run.py) hands
-- over the bench token without its last BENCH_SUFFIX_LEN characters; each
-- script appends a suffix of base64url digits of its own, so every token it
-- sends is still a JWT-shaped token of the same length.
local M = {}

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

M.prefix = assert(os.getenv("BENCH_TOKEN_PREFIX"), "BENCH_TOKEN_PREFIX is not set")
M.suffix_len = assert(tonumber(os.getenv("BENCH_SUFFIX_LEN")), "BENCH_SUFFIX_LEN is not set")

-- The low `width` base64url digits of the integer n, most significant first.
function M.digits(n, width)
  local out = {}
  for i = width, 1, -1 do
    local d = n % 64
    out[i] = ALPHABET:sub(d + 1, d + 1)
    n = (n - d) / 64
  end
  return table.concat(out)
end

-- The raw HTTP request carrying the token that ends in suffix.
function M.request(suffix)
  assert(#suffix == M.suffix_len, "suffix of the wrong length")
  return wrk.format(nil, nil, {Authorization = "Bearer " .. M.prefix .. suffix})
end

return M

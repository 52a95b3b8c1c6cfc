-- Helpers for the S3 scripts' tests. Not a bundled script:
-- `require("support.s3test")` from a test.
local s3 = require("s3")

local M = {}

-- store(t [, bucket]) starts an S3 store of the test's own (s3.server over a
-- temporary directory, on loopback) and makes it the default client until
-- the test ends; with a bucket name it creates that bucket and returns it.
function M.store(t, bucket)
  local srv = s3.server{dir = t:tmpdir()}
  t:cleanup(function() srv:close() end)
  local previous = s3.use(srv:client())
  t:cleanup(function() s3.use(previous) end)
  if bucket then
    s3.create_bucket(bucket)
    return s3.bucket(bucket)
  end
end

-- bytes(n [, seed]) → n pseudo-random bytes, the same for the same seed.
function M.bytes(n, seed)
  local parts, x = {}, seed or 7
  for i = 1, n do
    x = (x * 1103515245 + 12345) % 2147483648
    parts[i] = string.char(x % 256)
  end
  return table.concat(parts)
end

return M

-- Helper for the S3 scripts' tests. Not a bundled script:
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

return M

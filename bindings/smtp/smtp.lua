-- The Lua face of the smtp module. Connection methods and connect/send come
-- back from Go as (callback, lines, ok, ...): the transcript lines are handed
-- to the user's function here, in the calling task, so that the function may
-- itself suspend (io.write, a channel); then the error, if any, is raised.
local mod, conn_mt, server_mt, conn_field, server_field = ...
local error = error

local function finish(cb, lines, ok, ...)
  if cb and lines then
    for i = 1, #lines, 2 do cb(lines[i], lines[i + 1]) end
  end
  if not ok then error((...), 0) end
  return ...
end

local methods = {}
for name, fn in pairs(conn_mt.__index) do
  methods[name] = function(...) return finish(fn(...)) end
end
conn_mt.__index = function(self, k)
  local m = methods[k]
  if m ~= nil then return m end
  return conn_field(self, k)
end

local smethods = server_mt.__index
server_mt.__index = function(self, k)
  local m = smethods[k]
  if m ~= nil then return m end
  return server_field(self, k)
end

local connect, send = mod.connect, mod.send
mod.connect = function(...) return finish(connect(...)) end
mod.send = function(...) return finish(send(...)) end
return mod

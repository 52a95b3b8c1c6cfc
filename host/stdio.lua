-- io.read/io.write/io.lines on the host's stdin and stdout streams (see
-- InstallStdio). Not tail calls: a tail call loses its call site, and with
-- it the method-call numbering of `bad argument` messages.
local io, i, o = ...
local function id(...) return ... end
io.read = function(...) return id(i:read(...)) end
io.write = function(...) return id(o:write(...)) end
io.lines = (function(orig) return function(name, ...) if name == nil then return i:lines() end return orig(name, ...) end end)(io.lines)

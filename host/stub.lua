-- One stub per exported Go function, compiled with the function's own name
-- so that `bad argument #1 to 'NAME'` names it. A failed host call resumes
-- its task with (ERR, value); the stub raises it in the caller.
local ERR, NAME = ...
local function check(first, ...)
  if first == ERR then error((...), 0) end
  return first, ...
end
return function(...) return check(NAME(...)) end

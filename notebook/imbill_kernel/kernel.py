"""The imbill Jupyter kernel: Lua cells on LuaJIT (through lupa), imbill loaded.

This file is only the bridge between Jupyter's messages and the Lua session
in lua/imbill/report/kernel.lua.  That session decides everything about Lua:
what a cell's value is, how print and display() reach the notebook, how an
error reads, and when a cell stops on an interrupt.  Here we hand it the
code, give it three callbacks (write, publish, poll) and turn its answers
into Jupyter replies.

Interrupts: Jupyter sends SIGINT.  While a cell runs, our handler only sets a
flag; the Lua session's debug hook, and the stop hook that imbill's C work
calls between chunks (on this thread), ask for it through poll().  Python runs
signal handlers between bytecodes, and poll() is Python code, so the flag is
set by the time poll() reads it.
"""

import os
import re
import signal
import sys

from ipykernel.kernelbase import Kernel

from . import __version__, find_top


def _text(v):
    # Lua strings arrive as bytes (the runtime has no encoding): decode them
    # leniently, since a cell may print bytes that are not UTF-8.
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return "" if v is None else str(v)


# A cell may set its own debug hook (a profiler, a step counter, or
# debug.sethook() to clear hooks), and LuaJIT holds one hook for the whole
# state: the cell's would replace the count hook that stops it on an
# interrupt, and a cell that cleared it and looped could never be stopped.
# So the debug.sethook cells see keeps the kernel's hook: calls from the
# kernel's session (imbill/report/kernel.lua, known by its source) set the
# kernel's hook, any other call sets the cell's, and while both are set one
# hook runs each at its own events and counts.  The cell's hook lasts until
# the kernel clears its own at the end of the cell, as before.  The cell's
# hook is called by a tail call, so its debug.getinfo(2) is the function that
# was running.  While interrupted, the kernel's hook runs alone on every
# instruction, so nothing of the cell's runs after the stop.  The wrapper is
# Lua where Lua's debug.sethook is C, so neither hook is called inside it.
_HOOKS = b"""
local kernel_source = ...
local real_sethook, real_gethook, getinfo = debug.sethook, debug.gethook, debug.getinfo
local kernel, user = nil, nil     -- each { f =, mask =, count = }
local ku, kk                      -- instructions left before the cell's and the kernel's next count
local function step()
  if user.count > 0 then return math.min(ku, kk) end
  return kk
end
-- The functions below are Lua, where Lua's debug.sethook is C: the cell's
-- hook is not told of their instructions, calls and lines.
local own = {}
local function ours()
  local i = getinfo(3, "fS")
  if not i then return false end
  if own[i.func] then return true end
  local j = i.what == "C" and getinfo(4, "f")
  return j and own[j.func] or false
end
-- The kernel's hook alone.  It stops a cell by raising from the running
-- function, and lets its own error handler run by looking at debug.getinfo(2);
-- so it must not fire inside these functions (an interrupt raised from them
-- would escape the kernel's pcall, or stop its error handler), and it is
-- called by a tail call, so its level 2 is the function that was running.
local function kernel_only(ev, line)
  if not kernel or ours() then return end
  return kernel.f(ev, line)
end
local combined
combined = function(ev, line)
  if not (user and kernel) or ours() then return end
  if ev ~= "count" then return user.f(ev, line) end
  local n = step()
  kk = kk - n
  local mine = false
  if user.count > 0 then
    ku = ku - n
    if ku <= 0 then ku, mine = user.count, true end
  end
  if kk <= 0 then
    kk = kernel.count
    kernel.f(ev, line)
    -- the kernel's hook may have taken over (an interrupt)
    if real_gethook() ~= combined then return end
  end
  if step() ~= n then real_sethook(combined, user.mask, step()) end
  if mine then return user.f(ev, line) end
end
local function install()
  if not kernel then
    if user then real_sethook(user.f, user.mask, user.count) else real_sethook() end
  elseif not user or kernel.count == 1 then
    real_sethook(kernel_only, kernel.mask, kernel.count)
  else
    ku, kk = user.count, kernel.count
    real_sethook(combined, user.mask, step())
  end
end
-- a cell's call; a thread argument counts for nothing, LuaJIT's hook being global
local function noop() end
local function set_user(...)
  local first = type((...)) == "thread" and 2 or 1
  local f, mask, count = select(first, ...)
  if f == nil then user = nil return end
  -- Lua's own checks and messages for the arguments; a hook that does
  -- nothing is what they install meanwhile, so the cell's is not told of this
  if type(f) ~= "function" then real_sethook(f, mask, count) end
  real_sethook(noop, mask, count)
  real_sethook()
  mask = type(mask) == "string" and mask:gsub("[^crl]", "") or ""
  count = tonumber(count) or 0
  user = (mask ~= "" or count > 0) and { f = f, mask = mask, count = count } or nil
end
function debug.sethook(...)
  -- no hook runs while the hooks change (one would see them half set)
  real_sethook()
  local from = getinfo(2, "S")
  if from and from.source == kernel_source then
    local f, mask, count = ...
    if f == nil then kernel, user = nil, nil else kernel = { f = f, mask = mask or "", count = count or 0 } end
    return install()
  end
  local ok, e = pcall(set_user, ...)
  install()
  if not ok then error(e, 2) end
end
function debug.gethook()
  if user then return user.f, user.mask, user.count end
  if not kernel then return real_gethook() end
  return nil, "", 0
end
for _, f in ipairs { debug.sethook, debug.gethook, set_user, install, step } do own[f] = true end
"""


def _seq(t):
    """A Lua sequence as a Python list, in order."""
    return [t[i] for i in range(1, len(t) + 1)] if t is not None else []


def _no_attributes(obj, name, is_setting):
    raise AttributeError("imbill kernel: Lua cells do not reach Python")


class ImbillKernel(Kernel):
    implementation = "imbill"
    implementation_version = __version__
    language = "lua"
    language_version = "5.1"
    language_info = {
        "name": "lua",
        "version": "5.1",
        "mimetype": "text/x-lua",
        "file_extension": ".lua",
        "codemirror_mode": "lua",
        "pygments_lexer": "lua",
    }
    help_links = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._interrupted = False
        self._silent = False
        self._start_error = None
        self.top = find_top()
        self.banner = "imbill kernel %s: Lua on LuaJIT with imbill loaded (%s)" % (__version__, self.top)
        try:
            self._start_lua()
        except Exception as e:  # shown in every cell instead of a dead kernel
            self.log.exception("imbill kernel: Lua did not start")
            # the Lua message without lupa's chunk name and stack traceback
            lines = _text(e.args[0] if e.args else e).split("\n")
            lines = lines[:next((i for i, l in enumerate(lines) if l.startswith("stack traceback")), len(lines))]
            lines[0] = "imbill kernel: imbill did not load from %s: %s" % (
                self.top, re.sub(r'^\[string "[^"]*"\]:\d+: ', "", lines[0]))
            so = os.path.join(self.top, "build", "jit", "imbill", "core.so")
            if not os.path.exists(so):
                lines.insert(1, "%s is missing: run `make all` in %s (or set IMBILL_TOP)" % (so, self.top))
            self._start_error = [l.replace("\t", "  ") for l in lines]

    def _start_lua(self):
        import lupa

        # Lua reaches no Python attribute: the only Python objects it holds are
        # the three callbacks, which it calls, and a cell that dug them out of
        # the session (debug.getupvalue) would otherwise have Python itself
        # through their __self__ and __class__.
        self._lua = lupa.LuaRuntime(encoding=None, register_eval=False, register_builtins=False,
                                    attribute_filter=_no_attributes)
        paths = self._lua.eval(
            b"function(lua, c)"
            b"  package.path = lua .. '/?.lua;' .. lua .. '/?/init.lua;' .. package.path"
            b"  package.cpath = c .. '/?.so;' .. package.cpath"
            # cells see plain LuaJIT plus imbill, not lupa's bridge, which
            # require('python') would hand back too; the kernel never uses it
            b"  python = nil"
            b"  package.loaded.python = nil"
            b" end"
        )
        paths(os.path.join(self.top, "lua").encode(), os.path.join(self.top, "build", "jit").encode())
        start = self._lua.eval(
            b"function(w, p, q, hooks)"
            b"  local kernel = require('imbill.report.kernel')"
            b"  hooks(debug.getinfo(kernel.session, 'S').source)"
            b"  return kernel.session({ write = w, publish = p, poll = q })"
            b" end"
        )
        hooks = self._lua.execute(b"return function(...) " + _HOOKS + b" end")
        self._cells = start(self._write, self._publish, self._poll, hooks)

    # callbacks from Lua -------------------------------------------------------

    def _write(self, stream, text):
        if not self._silent:
            (sys.stderr if _text(stream) == "stderr" else sys.stdout).write(_text(text))

    def _bundle(self, b):
        return {_text(k): _text(v) for k, v in b.items()}

    def _publish(self, bundle):
        if self._silent:
            return
        # whatever was printed before the display comes before it
        sys.stdout.flush()
        sys.stderr.flush()
        self.send_response(self.iopub_socket, "display_data", {"data": self._bundle(bundle), "metadata": {}})

    def _poll(self):
        return self._interrupted

    def _on_sigint(self, signum, frame):
        self._interrupted = True

    # Jupyter requests ---------------------------------------------------------

    def set_parent(self, ident, parent, channel="shell"):
        # IPython's shell tells the output streams which request they answer;
        # without a shell we do, or print output would belong to no cell
        super().set_parent(ident, parent, channel)
        if channel == "shell":
            for stream in (sys.stdout, sys.stderr):
                if hasattr(stream, "set_parent"):
                    stream.set_parent(parent)

    def pre_handler_hook(self):
        # ipykernel puts Python's default handler in for each request, which
        # raises KeyboardInterrupt wherever the request is: an interrupt that
        # came before do_execute ran, or after it returned and before the reply
        # went out, left the request without a reply (the notebook waits for
        # it forever).  Ours only sets the flag, for the whole request; the flag
        # is cleared here, once the request is ours, so an interrupt that comes
        # between now and the cell's first poll still stops the cell.
        self._interrupted = False
        self.saved_sigint_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def post_handler_hook(self):
        signal.signal(signal.SIGINT, self.saved_sigint_handler)

    def _error(self, ename, evalue, traceback):
        if not self._silent:
            self.send_response(self.iopub_socket, "error",
                               {"ename": ename, "evalue": evalue, "traceback": traceback})
        return {"status": "error", "execution_count": self.execution_count,
                "ename": ename, "evalue": evalue, "traceback": traceback}

    def do_execute(self, code, silent, store_history=True, user_expressions=None, allow_stdin=False):
        # SIGINT only sets the flag for the whole request (pre_handler_hook)
        try:
            return self._execute(code, silent)
        except Exception as e:  # a bridge failure: the message, never a Python traceback
            self.log.exception("imbill kernel: the cell failed in the bridge")
            msg = "imbill kernel: %s" % _text(e.args[0] if getattr(e, "args", None) else e)
            return self._error("KernelError", msg, [msg])

    def _execute(self, code, silent):
        self._silent = silent
        if self._start_error:
            return self._error("ImportError", self._start_error[0], self._start_error)
        r = self._cells.run(code.encode("utf-8"), self.execution_count)
        sys.stdout.flush()
        sys.stderr.flush()
        if not r[b"ok"]:
            return self._error(_text(r[b"ename"]), _text(r[b"evalue"]), [_text(x) for x in _seq(r[b"traceback"])])
        values = [self._bundle(b) for b in _seq(r[b"values"])]
        if not silent:
            for i, data in enumerate(values):
                if i + 1 < len(values):
                    self.send_response(self.iopub_socket, "display_data", {"data": data, "metadata": {}})
                else:
                    self.send_response(self.iopub_socket, "execute_result",
                                       {"execution_count": self.execution_count, "data": data, "metadata": {}})
        return {"status": "ok", "execution_count": self.execution_count, "payload": [], "user_expressions": {}}

    def do_complete(self, code, cursor_pos):
        if self._start_error:
            return {"status": "ok", "matches": [], "cursor_start": cursor_pos, "cursor_end": cursor_pos,
                    "metadata": {}}
        matches, nbytes = self._cells.complete(code[:cursor_pos].encode("utf-8"))
        return {"status": "ok", "matches": [_text(m) for m in _seq(matches)],
                "cursor_start": cursor_pos - int(nbytes), "cursor_end": cursor_pos, "metadata": {}}

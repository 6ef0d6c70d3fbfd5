--- The `imbill` command-line tool (built on lua-argparse).  cli.main(args)
-- runs one command and returns the process exit code:
--
--   0  success
--   1  imbill refused the input (a malformed usage file, an unknown edition, a
--      value out of range); the message on standard error names the field
--      and the value
--   2  the command line is wrong (unknown command or option, a missing or
--      malformed value); the message is followed by the command's usage
--   3  a file could not be read or written (standard output included)
--   4  the command is not available in this installation (a Lua module it
--      needs is missing)
--
-- The code comes from the error's kind (imbill.cli.fail), never from its
-- text.  The parts: cli/args.lua (the grammar), cli/commands/*.lua (one file
-- a command), cli/usage.lua (usage and projections), cli/input.lua and
-- cli/output.lua (files read and written), cli/progress.lua.
local fail = require "imbill.cli.fail"
local args_mod = require "imbill.cli.args"

local M = {}

M.EXIT = { ok = 0, input = 1, usage = 2, io = 3, unavailable = 4 }
local CODE = { usage = 2, io = 3, unavailable = 4 }

-- argparse's own messages echo what was typed in full: a 1 MB argument must
-- not make a 1 MB message (imbill's own errors bound values with errors.show).
local SHOWN = 300
local function bounded(msg)
  if #msg <= SHOWN then return msg end
  local cut = SHOWN
  while cut > 1 and msg:byte(cut + 1) >= 0x80 and msg:byte(cut + 1) < 0xC0 do cut = cut - 1 end
  return string.format("%s... (%d bytes)", msg:sub(1, cut), #msg)
end

local function say(text)
  -- standard error is where failures are told; if it fails too, the exit code still says so
  io.stderr:write(text)
end

--- Runs one command line (an array of strings, as `arg`); returns the exit code.
function M.main(argv)
  local args_in = {}
  for i = 1, #(argv or {}) do
    local a = argv[i]
    -- argparse reads "-5%" as short options, so `--growth -5%` said "unknown
    -- option '-5'" and named neither the option nor the value.  No imbill
    -- option starts with a digit: a negative number right after a long option
    -- is that option's value, as `--growth=-5%` is.
    local prev = args_in[#args_in]
    if type(a) == "string" and a:match("^%-%.?%d") and type(prev) == "string"
        and prev:match("^%-%-[%a][%w-]*$") then
      args_in[#args_in] = prev .. "=" .. a
    else
      args_in[#args_in + 1] = a
    end
  end
  local okp, parser, commands = pcall(args_mod.parser)
  if not okp then
    say("imbill: error: " .. tostring(parser) .. "\n")
    return CODE[fail.kind(parser)] or M.EXIT.input
  end
  local ok, args = parser:pparse(args_in)
  if not ok then
    local cmdname
    for _, a in ipairs(args_in) do
      if not a:match("^%-") then
        cmdname = a
        break
      end
    end
    local known = cmdname and commands[cmdname] and cmdname
    -- named as the command's own errors are: "imbill invoice: error: ..."
    say((known and ("imbill " .. known) or "imbill") .. ": error: " .. bounded(tostring(args)) .. "\n")
    say("Run 'imbill " .. (known and (known .. " ") or "") .. "--help' for usage.\n")
    return M.EXIT.usage
  end
  if args.version then
    local okv, e = pcall(require("imbill.cli.output").emit, {}, "imbill " .. require("imbill").VERSION .. "\n")
    if not okv then
      say("imbill: error: " .. tostring(e) .. "\n")
      return CODE[fail.kind(e)] or M.EXIT.input
    end
    return M.EXIT.ok
  end
  if not args.command then
    say(parser:get_usage() .. "\n\nimbill: error: a command is required (" .. table.concat(args_mod.COMMANDS, ", ")
      .. ")\nRun 'imbill --help' for usage.\n")
    return M.EXIT.usage
  end
  local name = args.command
  -- one output a run: --text with --csv or --json wrote the other one and
  -- said nothing, as if the command had ignored what was asked
  local formats = {}
  for _, f in ipairs { "csv", "json", "text" } do
    if args[f] then formats[#formats + 1] = "--" .. f end
  end
  if #formats > 1 then
    say("imbill " .. name .. ": error: " .. table.concat(formats, " and ") .. " cannot be used together\n"
      .. "Run 'imbill " .. name .. " --help' for usage.\n")
    return M.EXIT.usage
  end
  -- -o naming a file the command reads replaced it with the result: a log,
  -- a usage history or a book gone, with exit code 0
  if args.out and args.out ~= "-" and args.out ~= "" then
    local output = require "imbill.cli.output"
    for _, opt in ipairs(args_mod.INPUTS) do
      local given = args[opt:sub(3):gsub("-", "_")]
      if type(given) == "string" and given ~= "-" and output.same_file(given, args.out) then
        say("imbill " .. name .. ": error: -o: is the file " .. opt .. " reads (the result would replace it), got "
          .. require("imbill.internal.errors").show(args.out) .. "\nRun 'imbill " .. name .. " --help' for usage.\n")
        return M.EXIT.usage
      end
    end
  end
  local ok2, code = pcall(commands[name].run, args)
  if ok2 then return code or M.EXIT.ok end
  local kind = fail.kind(code)
  say("imbill " .. name .. ": error: " .. tostring(code) .. "\n")
  if kind == "usage" then say("Run 'imbill " .. name .. " --help' for usage.\n") end
  return CODE[kind] or M.EXIT.input
end

return M

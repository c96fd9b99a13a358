--[[ spec.support.conformance: where the recorded API traffic is, and JSON comparison.

The recordings live in the repo, in spec/fixtures/conformance/ (copied byte for byte, with
their SOURCE.txt notes): a clone tests itself with nothing beside it. Paths resolve against
the repo root, found from this file's own path, so specs may run from any directory.

  local conformance = require "spec.support.conformance"
  conformance.dir()                  -> conformance directory (no trailing slash)
  conformance.repo_path(rel)         -> path of a file in the repo
  conformance.sse_transcripts()      -> sorted list of { folder=, file=, path=, name= }
                                        (every .sse/.txt in a subfolder of sse/;
                                        name = "<folder>__<file>", the fixture's base name)
  conformance.read(path)             -> the file's exact bytes
  conformance.expected(name [, dir]) -> decoded spec/fixtures/sse-expected/[dir/]<name>.json
  conformance.diff(expected, actual) -> nil when equal as JSON, else a one-line description
]]

local cjson = require "cjson"
local lfs = require "lfs" -- busted depends on luafilesystem, so it is there wherever specs run

local M = {}

-- Repo root with a trailing slash, or "" when this file was loaded by a path relative to the
-- current directory from the root itself.
local function repo_root()
  local src = debug.getinfo(1, "S").source
  local file = src:sub(1, 1) == "@" and src:sub(2) or ""
  local root = file:match("^(.-)spec[/\\]support[/\\]conformance%.lua$")
  if root == nil then return "" end
  return root
end

local function is_dir(path)
  return lfs.attributes(path, "mode") == "directory"
end

function M.repo_path(rel)
  return repo_root() .. rel
end

function M.dir()
  return repo_root() .. "spec/fixtures/conformance"
end

local function sorted_entries(dir)
  local list = {}
  for name in lfs.dir(dir) do
    if name ~= "." and name ~= ".." then list[#list + 1] = name end
  end
  table.sort(list)
  return list
end

function M.sse_transcripts()
  local base = M.dir() .. "/sse"
  assert(is_dir(base), "conformance transcripts not found at " .. base)
  local out = {}
  for _, folder in ipairs(sorted_entries(base)) do
    if is_dir(base .. "/" .. folder) then
      for _, file in ipairs(sorted_entries(base .. "/" .. folder)) do
        if file:match("%.sse$") or file:match("%.txt$") then
          out[#out + 1] = {
            folder = folder, file = file,
            path = base .. "/" .. folder .. "/" .. file,
            name = folder .. "__" .. file,
          }
        end
      end
    end
  end
  return out
end

M.read = require("spec.support.run").read_file

function M.expected(name, dir)
  local rel = "spec/fixtures/sse-expected/" .. (dir and dir .. "/" or "") .. name .. ".json"
  return cjson.decode(M.read(M.repo_path(rel)))
end

local function show(v)
  if v == nil then return "nothing" end
  if v == cjson.null then return "null" end
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then return "a table" end
  return tostring(v)
end

local function key_path(path, k)
  if type(k) == "number" then return path .. "[" .. string.format("%d", k) .. "]" end
  return path .. "." .. tostring(k)
end

-- JSON equality: numbers by value (cjson gives floats on 5.3+), null only equals null,
-- a missing key only equals a missing key, an empty array equals an empty object (cjson
-- decodes both to {}).
local function diff(a, b, path)
  if type(a) == "number" and type(b) == "number" then
    if a == b then return nil end
  elseif type(a) == "table" and type(b) == "table" then
    for k, v in pairs(a) do
      local d = diff(v, b[k], key_path(path, k))
      if d then return d end
    end
    for k, v in pairs(b) do
      if a[k] == nil then
        return key_path(path, k) .. ": expected nothing, got " .. show(v)
      end
    end
    return nil
  elseif a == b then
    return nil
  end
  return path .. ": expected " .. show(a) .. ", got " .. show(b)
end

function M.diff(expected, actual)
  return diff(expected, actual, "$")
end

return M

-- anthropic.platforms.aws_config: AWS credentials and region from where the AWS CLI and SDKs
-- look for them, in the same order:
--   1. explicit options (access_key_id, secret_access_key, session_token; region);
--   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
--      AWS_REGION, then AWS_DEFAULT_REGION;
--   3. the shared files for the profile (option `profile`, else AWS_PROFILE, else "default"):
--      AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) section [name], then
--      AWS_CONFIG_FILE (default ~/.aws/config) section [profile name] ([default] for the
--      default profile), whose `region` also gives the region.
-- Only static keys are read: profiles that name a credential_process, SSO or an assumed role
-- are reported as such, not silently skipped.

local errors = require "anthropic.errors"

local M = {}

local function env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then return nil end
  return v
end

local function home_file(rel)
  local home = env("HOME")
  return home and (home .. "/" .. rel) or nil
end

--- M.read_ini(path) -> { [section] = { key = value } } or nil when the file cannot be read.
--- The AWS shared-file format: [section] lines, key = value lines, # and ; comments; values
--- are trimmed; nested (indented) values belong to the key above them and are ignored.
---@param path string
---@return table<string, table<string, string>>?
function M.read_ini(path)
  local f = path and io.open(path, "r")
  if not f then return nil end
  local out, section = {}, nil
  for line in f:lines() do
    line = line:gsub("\r$", "")
    local name = line:match("^%s*%[%s*([^%]]-)%s*%]%s*$")
    if name then
      section = out[name] or {}
      out[name] = section
    elseif section and not line:match("^%s*[#;]") and not line:match("^%s") then
      local k, v = line:match("^([^=]-)%s*=%s*(.-)%s*$")
      if k and k ~= "" then section[k:lower()] = v end
    end
  end
  f:close()
  return out
end

local function profile_sections(profile)
  local creds = M.read_ini(env("AWS_SHARED_CREDENTIALS_FILE") or home_file(".aws/credentials")) or {}
  local config = M.read_ini(env("AWS_CONFIG_FILE") or home_file(".aws/config")) or {}
  local conf = config["profile " .. profile] or (profile == "default" and config.default) or nil
  return creds[profile], conf
end

--- M.resolve(opts) -> { access_key_id, secret_access_key, session_token, region, source }.
--- Raises UsageError naming what to set when no complete key pair is found. `source` says
--- where the keys came from ("options", "environment", "profile <name>").
---@param opts table the bedrock{} options
---@return table credentials
function M.resolve(opts)
  local out = { region = opts.region or env("AWS_REGION") or env("AWS_DEFAULT_REGION") }
  if opts.access_key_id ~= nil or opts.secret_access_key ~= nil then
    if opts.access_key_id == nil or opts.secret_access_key == nil then
      errors.usage(opts.access_key_id == nil and "access_key_id" or "secret_access_key",
        "access_key_id and secret_access_key go together: pass both")
    end
    out.access_key_id, out.secret_access_key = opts.access_key_id, opts.secret_access_key
    out.session_token, out.source = opts.session_token, "options"
  elseif env("AWS_ACCESS_KEY_ID") and env("AWS_SECRET_ACCESS_KEY") and opts.profile == nil then
    out.access_key_id, out.secret_access_key = env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")
    out.session_token, out.source = env("AWS_SESSION_TOKEN"), "environment"
  end
  local profile = opts.profile or env("AWS_PROFILE") or "default"
  local cred, conf = profile_sections(profile)
  if not out.access_key_id then
    local src = cred and cred.aws_access_key_id and cred or conf
    if src and src.aws_access_key_id and src.aws_secret_access_key then
      out.access_key_id, out.secret_access_key = src.aws_access_key_id, src.aws_secret_access_key
      out.session_token, out.source = src.aws_session_token, "profile " .. profile
    elseif conf and (conf.credential_process or conf.sso_session or conf.sso_start_url or conf.role_arn) then
      errors.usage("profile", "AWS profile '" .. profile .. "' gets its credentials from "
        .. (conf.credential_process and "credential_process" or conf.role_arn and "role_arn"
          or "SSO") .. ", which this client does not run: export AWS_ACCESS_KEY_ID, "
        .. "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (e.g. from `aws configure "
        .. "export-credentials --format env`), or pass them as options")
    end
  end
  if not out.region and conf and conf.region then out.region = conf.region end
  if not out.access_key_id then
    errors.usage("access_key_id", "no AWS credentials: set AWS_ACCESS_KEY_ID and "
      .. "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE with "
      .. "~/.aws/credentials, or pass access_key_id and secret_access_key")
  end
  return out
end

return M

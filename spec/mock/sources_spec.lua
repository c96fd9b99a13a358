-- The mock's checks of image and document sources (anthropic.mock.sources): 400
-- invalid_request_error worded as the API words it, with the field path first; and the
-- well-formed sources of every kind accepted (file_id sources: whether the id names an
-- uploaded file is the files route's check, specified with it).
local mock = require "spec.support.mock"
local cjson = require "cjson"

local PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
local GIF = "R0lGODlhAQABAIAAAP8AAAAAACwAAAAAAQABAAACAkQBADs="
local PDF = "JVBERi0xLjQKJSVFT0YK"   -- "%PDF-1.4\n%%EOF\n"

local function body(block)
  return cjson.encode { model = mock.MODELS.haiku, max_tokens = 10,
    messages = { { role = "user", content = { block, { type = "text", text = "hi" } } } } }
end

local function image(source) return body { type = "image", source = source } end
local function document(source) return body { type = "document", source = source } end

local IMAGE_TAGS = "'base64', 'file', 'url'"
local DOCUMENT_TAGS = "'base64', 'content', 'file', 'text', 'url'"
local AT = "messages.0.content.0."

local rows = {
  { "image without a source", body { type = "image" }, AT .. "image.source: Field required" },
  { "image source not an object", image("x"), AT .. "image.source: Input should be a valid dictionary" },
  { "image source without a type", image { data = PNG },
    AT .. "image.source: Unable to extract tag using discriminator 'type'" },
  { "image source of a document's type", image { type = "text", media_type = "text/plain", data = "x" },
    AT .. "image.source: Input tag 'text' found using 'type' does not match any of the expected tags: " .. IMAGE_TAGS },
  { "image media type not an image's", image { type = "base64", media_type = "application/pdf", data = PDF },
    AT .. "image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'" },
  { "image without media type", image { type = "base64", data = PNG },
    AT .. "image.source.base64.media_type: Field required" },
  { "image without data", image { type = "base64", media_type = "image/png" },
    AT .. "image.source.base64.data: Field required" },
  { "image data not base64", image { type = "base64", media_type = "image/png", data = "not base64!" },
    AT .. "image.source.base64.data: Invalid base64 data" },
  { "image data of another type", image { type = "base64", media_type = "image/png", data = GIF },
    AT .. "image.source.base64.data: The image was specified using the image/png media type, but the image "
      .. "appears to be a image/gif image" },
  { "image data that is no image", image { type = "base64", media_type = "image/png", data = PDF },
    AT .. "image.source.base64.data: Could not process image" },
  { "image file without an id", image { type = "file" }, AT .. "image.source.file.file_id: Field required" },
  { "image url not a string", image { type = "url", url = 7 },
    AT .. "image.source.url.url: Input should be a valid string" },
  { "document source of an unknown type", document { type = "video" },
    AT .. "document.source: Input tag 'video' found using 'type' does not match any of the expected tags: "
      .. DOCUMENT_TAGS },
  { "base64 document not a PDF", document { type = "base64", media_type = "image/png", data = PNG },
    AT .. "document.source.base64.media_type: Input should be 'application/pdf'" },
  { "base64 document whose bytes are no PDF",
    document { type = "base64", media_type = "application/pdf", data = PNG },
    AT .. "document.source.base64.data: The PDF specified was not valid." },
  { "text document of another media type", document { type = "text", media_type = "text/markdown", data = "# x" },
    AT .. "document.source.text.media_type: Input should be 'text/plain'" },
  { "text document without data", document { type = "text", media_type = "text/plain" },
    AT .. "document.source.text.data: Field required" },
  { "content document without content", document { type = "content" },
    AT .. "document.source.content.content: Field required" },
  { "an image inside a tool_result is checked too", cjson.encode { model = mock.MODELS.haiku, max_tokens = 10,
      messages = { { role = "user", content = "x" },
        { role = "assistant", content = { { type = "tool_use", id = "toolu_1", name = "t", input = {} } } },
        { role = "user", content = { { type = "tool_result", tool_use_id = "toolu_1",
          content = { { type = "image",
            source = { type = "base64", media_type = "image/gif", data = PNG } } } } } } } },
    "messages.2.content.0.content.0.image.source.base64.data: The image was specified using the image/gif media "
      .. "type, but the image appears to be a image/png image" },
}

describe("mock: image and document sources", function()
  for _, row in ipairs(rows) do
    it(row[1], function()
      local status, _, raw = mock.request("POST", "/v1/messages", mock.headers(), row[2])
      assert.equal(400, status)
      local b = cjson.decode(raw)
      assert.equal("invalid_request_error", b.error.type)
      assert.equal(row[3], b.error.message)
    end)
  end

  local good = {
    { "a base64 PNG", image { type = "base64", media_type = "image/png", data = PNG } },
    { "an image URL", image { type = "url", url = "https://example.com/a.png" } },
    { "a base64 PDF", document { type = "base64", media_type = "application/pdf", data = PDF } },
    { "a text document", document { type = "text", media_type = "text/plain", data = "notes" } },
    { "a content document", document { type = "content", content = { { type = "text", text = "a" } } } },
  }
  for _, row in ipairs(good) do
    it("accepts " .. row[1], function()
      local status, _, raw = mock.request("POST", "/v1/messages", mock.headers(), row[2])
      assert.equal(200, status, raw)
      assert.equal("message", cjson.decode(raw).type)
    end)
  end
end)

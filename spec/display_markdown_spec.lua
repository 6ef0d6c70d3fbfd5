-- display.markdown lets no HTML through: a notebook's answer is written with
-- it from computed data (a user book may be called anything), and nbconvert's
-- HTML export renders markdown's raw HTML as it is.  spec/notebook/test_export.py
-- renders the same strings with nbconvert and a browser.
local H = require "helper"
local D = require "imbill.report.display"
local imbill = H.imbill

local function md(s) return D.bundle(D.markdown(s))["text/markdown"] end

describe("display.markdown", function()
  it("escapes HTML in the text, so a book named with markup is shown as its name", function()
    local bad = imbill.book { base = "2021", name = "<img src=x onerror=alert(4)>",
                              editions = { pro = { monthly_fee = "1" } } }
    assert.equal("The cheapest book is **&lt;img src=x onerror=alert(4)&gt;**.",
      md("The cheapest book is **" .. bad.name .. "**."))
    assert.equal("a &amp; b &lt;script&gt;x&lt;/script&gt;", md("a & b <script>x</script>"))
  end)

  it("keeps the text/plain part as written", function()
    assert.equal("<b>x</b>", D.bundle(D.markdown("<b>x</b>"))["text/plain"])
  end)

  it("leaves code spans and fenced code blocks as they are, where markdown shows text literally", function()
    assert.equal("if `a < b && c > d` then", md("if `a < b && c > d` then"))
    assert.equal("``x ` <y>`` and <z>", md("``x ` <y>`` and <z>"):gsub("&lt;z&gt;", "<z>"))
    local fenced = "Code:\n\n```lua\nif a < b then print(\"<&>\") end\n```\n\nthen <b>"
    assert.equal("Code:\n\n```lua\nif a < b then print(\"<&>\") end\n```\n\nthen &lt;b&gt;", md(fenced))
    assert.equal("~~~\n<x>\n~~~", md("~~~\n<x>\n~~~"))
  end)

  it("keeps markdown's own syntax: emphasis, links, lists, blockquotes", function()
    assert.equal("**bold** [a](https://example.com)\n\n- one\n> quoted &gt; here",
      md("**bold** [a](https://example.com)\n\n- one\n> quoted > here"))
  end)

  it("escapes whatever is not certain to be code for every renderer", function()
    -- an emphasis that starts before a code span can end inside it (nbconvert's mistune)
    assert.equal("*a `b* &lt;img&gt;`", md("*a `b* <img>`"))
    -- a backtick left open pairs with a later one on the next line
    assert.equal("x`a\n`&lt;img&gt;`", md("x`a\n`<img>`"))
    -- a pipe splits a table cell before code spans are read
    assert.equal("`&lt;img&gt;|`", md("`<img>|`"))
    -- mistune closes a fence at the first line that ends in its fence
    assert.equal("```\nx```\n&lt;img&gt;\n```", md("```\nx```\n<img>\n```"))
    -- mistune has no unclosed fence, nor a fence with a two-word info string
    assert.equal("```\n&lt;img&gt;", md("```\n<img>"))
    assert.equal("``` a b\n&lt;img&gt;\n```", md("``` a b\n<img>\n```"))
    -- a fence right after a paragraph line
    assert.equal("text\n```\n&lt;img&gt;\n```", md("text\n```\n<img>\n```"))
    -- an indented fence may be a list item's, which a line not indented ends
    -- (CommonMark: that line is then an HTML block)
    assert.equal("- a\n\n  ```\n&lt;img src=x onerror=alert(1)&gt;\n  ```",
      md("- a\n\n  ```\n<img src=x onerror=alert(1)>\n  ```"))
  end)

  it("reads a backslash-escaped < > & as the character itself", function()
    assert.equal("&lt;tag&gt; &amp; \\*", md("\\<tag\\> \\& \\*"))
  end)

  it("treats a lone carriage return as the line break it is to markdown", function()
    assert.equal("`a\n# &lt;img&gt;`", md("`a\r# <img>`"))
  end)
end)

describe("display.markdown_text", function()
  it("escapes a value's markdown punctuation, so it shows as itself", function()
    assert.equal("\\*\\*x\\*\\* \\[a\\]\\(b\\) a\\_b \\#1\\.", D.markdown_text("**x** [a](b) a_b #1."))
  end)

  it("cannot make a link, an image or a javascript: link out of data", function()
    local t = md("Cheapest: **" .. D.markdown_text("[x](javascript:alert(1)) ![i](javascript:y)") .. "**")
    assert.equal("Cheapest: **\\[x\\]\\(javascript:alert\\(1\\)\\) \\!\\[i\\]\\(javascript:y\\)**", t)
  end)

  it("makes line breaks spaces, so data starts no block (a fence, a heading, a table row)", function()
    assert.equal("a \\`\\`\\` \\# b \\| c", D.markdown_text("a\n```\n# b\r\n| c"))
  end)

  it("leaves & < > to display.markdown, which escapes them", function()
    assert.equal("&lt;img src=x onerror=alert\\(4\\)&gt; &amp;amp;",
      md(D.markdown_text("<img src=x onerror=alert(4)> &amp;")))
  end)

  it("keeps a bare web address intact, as the renderers make it a link", function()
    assert.equal("see https://example.com/a_b.c?d=1\\.", D.markdown_text("see https://example.com/a_b.c?d=1."))
    assert.equal("https://x.org/\\[y\\]\\(javascript:z\\)", D.markdown_text("https://x.org/[y](javascript:z)"))
  end)
end)

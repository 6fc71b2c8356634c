-- Drives Neovim's own LSP client, configured by the docs' init.lua snippet, through what a
-- user does with a race: open the file, see E201, pick the quick fix, see it go. Then the
-- docs' command for the graph page. Run by tests/test_lsp_editors.py:
--   PTO_RACY=f.pto PTO_MLIR=g.pto PTO_GRAPH_CMD=':lua ...' PTO_RESULT=out.json \
--     nvim --headless -u init.lua -c 'luafile neovim.lua'
-- It writes what it saw to PTO_RESULT as JSON (the test asserts on it) and quits.
local out = {}

local function finish(err)
  out.error = err
  local f = assert(io.open(os.getenv("PTO_RESULT"), "w"))
  f:write(vim.json.encode(out))
  f:close()
  vim.cmd("qa!")
end

local ok, err = pcall(function()
  -- An MLIR file of the PTO assembler keeps its own file type.
  vim.cmd.edit(vim.fn.fnameescape(os.getenv("PTO_MLIR")))
  out.mlir_filetype = vim.bo.filetype

  vim.cmd.edit(vim.fn.fnameescape(os.getenv("PTO_RACY")))
  local buf = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[buf].filetype

  local function race()
    for _, d in ipairs(vim.diagnostic.get(buf)) do
      if d.code == "E201" then return d end
    end
  end
  if not vim.wait(30000, function() return race() ~= nil end, 50) then
    return finish("no E201 within 30 s")
  end
  local d = race()
  out.diagnostic = {
    lnum = d.lnum, col = d.col, source = d.source, message = d.message,
    related = vim.tbl_get(d, "user_data", "lsp", "relatedInformation"),
  }

  -- The code actions on the race, as the menu of vim.lsp.buf.code_action() lists them
  -- (the inferred clause follows the diagnostics by a moment).
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local titles = {}
  vim.wait(10000, function()
    titles = {}
    local client = vim.lsp.get_clients({ bufnr = buf })[1]
    local params = vim.lsp.util.make_range_params(0, client.offset_encoding)
    params.context = { diagnostics = { d.user_data.lsp } }
    local res = vim.lsp.buf_request_sync(buf, "textDocument/codeAction", params, 5000) or {}
    for _, r in pairs(res) do
      for _, a in ipairs(r.result or {}) do table.insert(titles, a.title) end
    end
    return #titles >= 2
  end, 100)
  out.actions = titles

  -- What the user does: vim.lsp.buf.code_action(), picking the help line's dep.
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(a) return a.title:find("add 'dep right'", 1, true) ~= nil end,
  })
  out.cleared = vim.wait(30000, function()
    return #vim.diagnostic.get(buf) == 0 and vim.b[buf].changedtick > 2
  end, 50)
  out.fixed_line = vim.api.nvim_buf_get_lines(buf, d.lnum, d.lnum + 1, false)[1]
  out.left = vim.tbl_map(function(x) return x.code end, vim.diagnostic.get(buf))

  -- The docs' command for the graph page; the page is opened through vim.ui.open, which
  -- here records the address instead of starting a browser.
  vim.ui.open = function(path)
    out.graph_page = path
    return { wait = function() return { code = 0 } end }, nil
  end
  vim.cmd(os.getenv("PTO_GRAPH_CMD"))
  vim.wait(30000, function() return out.graph_page ~= nil end, 50)
  finish(nil)
end)
if not ok then finish(tostring(err)) end

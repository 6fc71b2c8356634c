#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end test of the extension (tests/test_lsp_editors.py)
# and for the screenshot of docs/editor.md: code-server (VS Code 1.100 served to a browser,
# with the desktop's Node extension host, so the extension's client starts pto-lsp as on the
# desktop) and puppeteer-core (drives the system's Chromium; it downloads no browser).
#
# code-server's own install step downloads ripgrep and prebuilt native modules from GitHub;
# this script builds the native modules from source and uses the system's ripgrep instead,
# so it needs only the npm registry. Needs Node.js 20, g++, make, python3, ripgrep and the
# Kerberos headers (Debian: apt-get install g++ make ripgrep libkrb5-dev). A few minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export npm_config_yes=true npm_config_audit=false npm_config_fund=false

command -v rg >/dev/null || { echo "error: ripgrep (rg) is needed" >&2; exit 1; }
npm ci --ignore-scripts
npm rebuild argon2 --build-from-source   # code-server's password hashing, a native module

vs=node_modules/code-server/lib/vscode
(cd "$vs" && npm install --omit=dev --ignore-scripts)
mkdir -p "$vs/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$vs/node_modules/@vscode/ripgrep/bin/rg"
(cd "$vs" && npm rebuild kerberos node-pty @parcel/watcher @vscode/spdlog native-watchdog \
    @vscode/deviceid)
# What code-server's postinstall.sh does after installing its packages.
ln -sfn node_modules "$vs/node_modules.asar"
ln -sfn code-linux.sh "$vs/bin/remote-cli/code-server"
ln -sfn browser-linux.sh "$vs/bin/helpers/browser.sh"
(cd "$vs/extensions" && npm install --omit=dev)

# (with a configuration folder of its own: code-server writes one where it starts)
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
HOME=$config XDG_CONFIG_HOME=$config node_modules/.bin/code-server --version

// The VS Code client of pto-lsp: starts the server from the user's environment (setting
// pto.server.command), hands it the pto.* settings, and recognises pto-dsl's .pto files by
// their content so that the PTO assembler's MLIR .pto files are left alone.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
const { isPtoDsl } = require('./detect');

let client;

function settings() {
  const c = vscode.workspace.getConfiguration('pto');
  return {
    case: c.get('case', ''),
    timeLimit: c.get('timeLimit', 10),
    memoryLimitMiB: c.get('memoryLimitMiB', 4096),
  };
}

function start(context) {
  const [command, ...args] = vscode.workspace.getConfiguration('pto').get('server.command',
    ['pto-lsp']);
  const server = { command, args, transport: TransportKind.stdio };
  client = new LanguageClient('pto-lsp', 'pto-lsp', server, {
    documentSelector: [{ language: 'pto' }],
    initializationOptions: settings(),
    synchronize: { configurationSection: 'pto' },
  });
  context.subscriptions.push(client);
  return client.start().catch((err) => {
    vscode.window.showErrorMessage(
      `pto-dsl: cannot start the language server '${command}': ${err.message}. ` +
      'Its output (View: Output, pto-lsp) says why. Install pto-dsl in the environment ' +
      'VS Code runs in, or set pto.server.command to its full path.');
  });
}

function claim(document) {
  if (!vscode.workspace.getConfiguration('pto').get('detectByContent', true)) return;
  if (document.languageId === 'pto' || !document.uri.path.endsWith('.pto')) return;
  if (isPtoDsl(document.getText())) {
    vscode.languages.setTextDocumentLanguage(document, 'pto');
  }
}

async function showGraph() {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== 'pto') return;
  // pto.showGraph is the server's command (registered by the client): it writes the page,
  // asks the editor to open it, and returns its path.
  const page = await vscode.commands.executeCommand('pto.showGraph',
    editor.document.uri.toString());
  if (page && page.path) {
    vscode.window.setStatusBarMessage(`pto-dsl: task graph written to ${page.path}`, 10000);
  }
}

function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument(claim),
    vscode.commands.registerCommand('pto.showGraphOfEditor', showGraph),
    vscode.commands.registerCommand('pto.restartServer', async () => {
      if (client) await client.restart();
    }),
  );
  vscode.workspace.textDocuments.forEach(claim);
  return start(context);
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };

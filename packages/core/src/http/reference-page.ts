/**
 * A readable API reference rendered on the server from the OpenAPI document: no JavaScript, no CDN, so it
 * opens on a NOC laptop with no internet. Machines read /openapi.json.
 */

interface Operation {
  summary?: string;
  tags?: string[];
  'x-rgz-access'?: string | string[];
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
}

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

export function renderReferencePage(doc: unknown): string {
  const d = doc as { info?: { title?: string; version?: string }; paths?: Record<string, Record<string, Operation>> };
  const rows: string[] = [];
  for (const [path, methods] of Object.entries(d.paths ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [method, op] of Object.entries(methods)) {
      const access = op['x-rgz-access'];
      const params = (op.parameters ?? []).map((p) => `${esc(p.name)}${p.required ? '' : '?'} <small>(${esc(p.in)})</small>`).join(', ');
      const body = op.requestBody?.content ? Object.keys(op.requestBody.content).map(esc).join(', ') : '';
      const responses = Object.entries(op.responses ?? {})
        .map(([code, r]) => `${esc(code)} ${esc(r.description)}`)
        .join('<br>');
      rows.push(
        `<tr><td><code>${esc(method.toUpperCase())}</code></td><td><code>${esc(path)}</code></td><td>${esc(op.summary)}</td>` +
          `<td>${esc(Array.isArray(access) ? access.join(', ') : access)}</td><td>${params}${body ? `<br>body: ${body}` : ''}</td><td>${responses}</td></tr>`,
      );
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(d.info?.title)} reference</title><style>body{font:14px/1.4 system-ui,sans-serif;margin:1rem;color:#111}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}code{font-size:13px}</style></head><body>
<h1>${esc(d.info?.title)} <small>${esc(d.info?.version)}</small></h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a>. Authenticated routes take <code>Authorization: Bearer rgz_…</code>.</p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Who</th><th>Input</th><th>Responses</th></tr></thead><tbody>${rows.join('')}</tbody></table></body></html>`;
}
